import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sttEnvelope } from '../helpers/fixtures.js';
import { memoryOf, mintVia, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { rawConnect, streamChunked } from '../helpers/raw-http.js';
import { post, waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { listenOn } from '../../src/http-listen.js';

let server: ServerProcess | undefined;
afterEach(() => {
  server?.child.kill('SIGKILL');
  server = undefined;
});

interface Acked {
  requestId: string;
  sha256: string;
}

/**
 * Posts distinct envelopes from `concurrency` loops until `stop()` is called or the server goes away.
 * Returns every delivery that was answered 200.
 */
function burst(urls: { requestId: string; callbackUrl: string }[], concurrency: number) {
  const acked: Acked[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const target = urls[n++ % urls.length]!;
      const body = JSON.stringify(sttEnvelope(`job-${n}`));
      try {
        if ((await post(target.callbackUrl, body)) === 200) {
          acked.push({ requestId: target.requestId, sha256: createHash('sha256').update(body).digest('hex') });
        }
      } catch {
        return; // connection refused or reset: the server is gone
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
    done: Promise.all(loops),
  };
}

function missingFrom(dbPath: string, acked: Acked[]): Acked[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    // By the exact bytes alone: each body is distinct, and a delivery naming another jobId than the URL's
    // first is filed under that job's own request.
    const find = db.prepare('SELECT 1 FROM deliveries WHERE hex(body_sha256) = upper(?)');
    return acked.filter((a) => find.get(a.sha256) === undefined);
  } finally {
    db.close();
  }
}

describe('jobhook serve (process)', () => {
  it('prints the URLs it listens on and stops cleanly with exit 0 on SIGTERM mid-burst', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath]);
    expect(server.banner).toMatch(/receiver\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(server.banner).toMatch(/local API\s+http:\/\/127\.0\.0\.1:\d+\/api\/requests/);
    const urls = await Promise.all(Array.from({ length: 20 }, () => mintVia(server!.localPort)));
    const load = burst(urls, 20);
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await load.done;
    expect(load.acked.length).toBeGreaterThan(0);
    expect(missingFrom(dbPath, load.acked)).toEqual([]);
    expect(server.stderr()).toMatch(/stopped cleanly/);
  });

  it('keeps every acknowledged delivery through kill -9 and parses leftovers after restart', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath]);
    const urls = await Promise.all(Array.from({ length: 50 }, () => mintVia(server!.localPort)));
    const load = burst(urls, 50);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    await load.stop();
    expect(load.acked.length).toBeGreaterThan(100);
    console.log(`kill -9: ${load.acked.length} deliveries acknowledged before the kill`);
    expect(missingFrom(dbPath, load.acked)).toEqual([]);

    server = await startServer(['--db', dbPath]);
    const first = load.acked[0]!;
    const detail = (await (
      await fetch(`http://127.0.0.1:${server.localPort}/api/requests/${first.requestId}`)
    ).json()) as {
      request: { state: string };
      deliveries: { parseState: string }[];
    };
    expect(detail.request.state).toBe('succeeded');
    const db = new Database(dbPath, { readonly: true });
    const unparsed = db
      .prepare(
        // Receipts not yet indexed are those without `indexed_at` (schema 4).
        'SELECT COUNT(*) FROM deliveries WHERE indexed_at IS NULL',
      )
      .pluck()
      .get();
    db.close();
    expect(unparsed).toBe(0);
  });

  it('answers 413 to a 100 MiB body under the 64 MiB default without holding it, and keeps serving', async () => {
    server = await startServer(['--db', tempDbPath()]);
    const minted = await mintVia(server.localPort);
    const path = new URL(minted.callbackUrl).pathname;
    const baseline = memoryOf(server.child.pid!).currentBytes;

    const declared = await rawConnect(server.receiverPort);
    declared.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
    expect(await declared.closed).toMatch(/^HTTP\/1\.1 413 /);

    const streamed = await streamChunked(server.receiverPort, path, 100 * 1024 * 1024);
    expect(streamed.response).toMatch(/^HTTP\/1\.1 413 /);
    const grown = memoryOf(server.child.pid!).peakBytes - baseline;
    console.log(`memory: baseline ${baseline >> 20} MiB, peak growth ${grown >> 20} MiB`);
    // At most the 64 MiB limit is ever held, never the 100 MiB sent.
    expect(grown).toBeLessThan(100 * 1024 * 1024);

    expect(await post(minted.callbackUrl, JSON.stringify(sttEnvelope('after-413')))).toBe(200);
  });

  it('stops within --shutdown-timeout while forwards hang: deliveries kept, no forward started after the signal', async () => {
    // A forward target that reads each request and never answers.
    const arrivals: number[] = [];
    const target = createServer((req) => {
      req.resume();
      req.on('end', () => arrivals.push(Date.now()));
    });
    const { port } = await listenOn(target, 0, '127.0.0.1');
    try {
      const dbPath = tempDbPath();
      server = await startServer([
        '--db',
        dbPath,
        '--forward-to',
        `http://127.0.0.1:${port}/hook`,
        '--shutdown-timeout',
        '2s',
      ]);
      const urls = await Promise.all(Array.from({ length: 5 }, () => mintVia(server!.localPort)));
      const acked: Acked[] = [];
      for (const [i, minted] of urls.entries()) {
        const body = JSON.stringify(sttEnvelope(`job-settle-${i}`));
        expect(await post(minted.callbackUrl, body)).toBe(200);
        acked.push({ requestId: minted.requestId, sha256: createHash('sha256').update(body).digest('hex') });
      }
      // Every result's forward is in flight, hanging (before, they queued one behind another).
      await waitFor(() => arrivals.length === urls.length, 10_000);
      const load = burst(urls, 5);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      const tookMs = Date.now() - signalledAt;
      await load.done;
      console.log(
        `SIGTERM with ${urls.length} hanging forwards and --shutdown-timeout 2s: exit ${code} after ${tookMs} ms`,
      );
      expect(code).toBe(0);
      expect(tookMs).toBeLessThan(8000); // before: not exited after 120 s, retrying forwards meanwhile
      // Forwards of results that settled during the burst may have been sent a moment before the signal
      // and arrive just after it; one started after the signal would keep arriving (before: retries for 120 s).
      expect(arrivals.filter((at) => at > signalledAt + 250)).toEqual([]);
      expect(missingFrom(dbPath, [...acked, ...load.acked])).toEqual([]);
      expect(load.acked.length).toBeGreaterThan(0);
      const db = new Database(dbPath, { readonly: true });
      try {
        // Abandoned, not completed: each forward stays leased for the next start to take over.
        const runOf = db.prepare(
          "SELECT state, attempts FROM handler_runs WHERE handler = 'forward' AND request_id = ?",
        );
        expect(urls.map((u) => runOf.get(u.requestId))).toEqual(urls.map(() => ({ state: 'running', attempts: 1 })));
        // The burst's other jobIds became requests of their own: none of their forwards completed either.
        const states = db.prepare("SELECT DISTINCT state FROM handler_runs WHERE handler = 'forward'").pluck().all();
        expect(states.filter((state) => state !== 'running' && state !== 'pending')).toEqual([]);
      } finally {
        db.close();
      }
      expect(server.stderr()).toMatch(/stopped cleanly/);
    } finally {
      await new Promise<void>((resolve) => {
        target.close(() => resolve());
        target.closeAllConnections();
      });
    }
  });

  it('removes the partial spool file of a large body cut off by shutdown, and says shutdown cut it', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath, '--shutdown-timeout', '1s']);
    const minted = await mintVia(server.localPort);
    const trickler = await rawConnect(server.receiverPort);
    trickler.socket.write(
      `POST ${new URL(minted.callbackUrl).pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n`,
    );
    trickler.socket.write(Buffer.alloc(600_000, 0x20)); // past 256 KiB: the body is being spooled
    const drip = setInterval(() => trickler.socket.write(' '), 200);
    try {
      await waitFor(() => readdirSync(`${dbPath}-bodies`).some((f) => f.endsWith('.body')));
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      // Before: the partial file stayed until an hour after the next start, and the log blamed the sender.
      expect(readdirSync(`${dbPath}-bodies`).filter((f) => f.endsWith('.body'))).toEqual([]);
      expect(server.stderr()).toMatch(/cut off by shutdown/);
    } finally {
      clearInterval(drip);
      trickler.socket.destroy();
    }
  });

  it('does not let a sender trickling its body hold the shutdown past --shutdown-timeout', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath, '--shutdown-timeout', '1s']);
    const minted = await mintVia(server.localPort);
    const trickler = await rawConnect(server.receiverPort);
    trickler.socket.write(
      `POST ${new URL(minted.callbackUrl).pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"jobId":`,
    );
    const drip = setInterval(() => trickler.socket.write(' '), 200);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      const tookMs = Date.now() - signalledAt;
      console.log(`SIGTERM with a trickling sender and --shutdown-timeout 1s: exit ${code} after ${tookMs} ms`);
      expect(code).toBe(0);
      expect(tookMs).toBeLessThan(7000); // before: held for as long as the sender kept sending
      expect(await trickler.closed).not.toMatch(/^HTTP\/1\.1 200/); // cut off unanswered: the sender retries
    } finally {
      clearInterval(drip);
      trickler.socket.destroy();
    }
  });
});
