import { request } from 'node:http';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { largeSttEnvelope, sttEnvelope } from '../helpers/fixtures.js';
import { memoryOf, mintVia, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { tempDbPath } from '../helpers/temp.js';

const MiB = 1024 * 1024;
let server: ServerProcess | undefined;
afterEach(() => {
  server?.child.kill('SIGKILL');
  server = undefined;
});

/** POSTs `body` with a Content-Length and resolves with the status and the time to the answer. */
function timedPost(url: string, body: Buffer): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

describe('jobhook serve under 20 concurrent 28 MiB deliveries (process)', () => {
  it('keeps acknowledging small deliveries, stores everything, and stays within 2x the bodies in memory', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath]);
    const large = await Promise.all(Array.from({ length: 20 }, () => mintVia(server!.localPort)));
    const small = await mintVia(server.localPort);
    const body = largeSttEnvelope('job-28mib', 28 * MiB);

    // A small delivery every 20 ms for as long as the large ones are in flight.
    const smallAcks: { status: number; ms: number }[] = [];
    const state = { sending: true };
    let n = 0;
    const ticker = (async () => {
      const inFlight: Promise<void>[] = [];
      while (state.sending) {
        const envelope = Buffer.from(JSON.stringify(sttEnvelope(`small-${n++}`, 'InProgress')));
        inFlight.push(timedPost(small.callbackUrl, envelope).then((r) => void smallAcks.push(r)));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await Promise.all(inFlight);
    })();
    const largeAnswers = await Promise.all(large.map((target) => timedPost(target.callbackUrl, body)));
    state.sending = false;
    await ticker;

    expect(largeAnswers.map((a) => a.status)).toEqual(large.map(() => 200));
    expect(smallAcks.every((a) => a.status === 200)).toBe(true);
    const ms = smallAcks.map((a) => a.ms);
    const peak = memoryOf(server.child.pid!).peakBytes;
    console.log(
      `20 x 28 MiB: ${smallAcks.length} small acks p50 ${percentile(ms, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(ms, 99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms; server peak RSS ${peak >> 20} MiB`,
    );
    // Before the fix small acks waited p50 4.3 s, p99 7.8 s behind the large bodies. The target (p99 ≤ 100 ms)
    // is measured by `npm run bench:large-bodies`; here a bound far from both catches a regression to stalling
    // without failing on a busy machine.
    expect(percentile(ms, 99)).toBeLessThan(2000);
    expect(peak).toBeLessThan(2 * 20 * 28 * MiB);

    // Every acknowledged body is stored, byte for byte (by hash), large ones in spool files.
    const db = new Database(dbPath, { readonly: true });
    try {
      const spooled = db
        .prepare('SELECT COUNT(*) FROM deliveries WHERE body_file IS NOT NULL AND hex(body_sha256) = upper(?)')
        .pluck()
        .get((await import('node:crypto')).createHash('sha256').update(body).digest('hex'));
      expect(spooled).toBe(20);
      // Each small envelope names its own job, so each has its own request: count the inline bodies.
      const smallStored = db.prepare('SELECT COUNT(*) FROM deliveries WHERE body_file IS NULL').pluck().get();
      expect(smallStored).toBe(smallAcks.length);
    } finally {
      db.close();
    }
  });
});
