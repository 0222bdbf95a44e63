import { renameSync, rmSync, unlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { createEnvelopeIndexer } from '../../src/receiver/envelope-indexer.js';
import { createReceiver } from '../../src/receiver/receiver.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { BARE_PUNCTUATE, failEnvelope, sttEnvelope } from '../helpers/fixtures.js';
import { rawConnect, streamChunked } from '../helpers/raw-http.js';
import { indexedDeliveries, post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tamperedPaths } from '../helpers/tampered-paths.js';
import { tempDbPath } from '../helpers/temp.js';

let harness: Harness;
afterEach(async () => {
  await harness.close();
});

describe('receiver', () => {
  it('stores a delivery, answers exactly 200, then indexes its envelope', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint({ api: '/ai/audio/v1/async/speech-to-text' });
    const response = await fetch(callbackUrl, { method: 'POST', body: JSON.stringify(sttEnvelope('job-42')) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const settled = await waitFor(async () => {
      const r = await harness.store.findRequest('job-42');
      return r?.state === 'succeeded' ? r : undefined;
    });
    expect(settled.requestId).toBe(requestId);
    const [delivery] = await harness.store.listDeliveries(requestId);
    expect(delivery).toMatchObject({ source: 'webhook', count: 1, parseState: 'parsed' });
    expect(delivery!.rawHeaders).toContain('content-type');
  });

  it('keeps one stored delivery with count 2 when the same body arrives twice', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    const body = JSON.stringify(sttEnvelope('job-dup'));
    expect(await post(callbackUrl, body)).toBe(200);
    expect(await post(callbackUrl, body)).toBe(200);
    // Both receipts are visible at once; the indexer folds the second into the first moments later.
    expect((await harness.store.findRequest(requestId))!.deliveryCount).toBe(2);
    const deliveries = await indexedDeliveries(harness.store, requestId);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.count).toBe(2);
    expect(harness.counts().deliveries).toBe(1);
  });

  it('keeps every distinct body; the first terminal envelope decides the outcome', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    expect(await post(callbackUrl, JSON.stringify(failEnvelope('job-x')))).toBe(200);
    await waitFor(async () => (await harness.store.findRequest(requestId))?.state === 'failed');
    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('job-x')))).toBe(200);
    expect(await indexedDeliveries(harness.store, requestId)).toHaveLength(2);
    expect(await harness.store.findRequest(requestId)).toMatchObject({ state: 'failed' });
  });

  it('stores bodies that are not JSON or not envelopes, and correlates the bare form by URL', async () => {
    harness = await startHarness(tempDbPath());
    const a = await harness.mint();
    const b = await harness.mint();
    expect(await post(a.callbackUrl, '<html>oops</html>', { 'content-type': 'text/html' })).toBe(200);
    expect(await post(b.callbackUrl, JSON.stringify(BARE_PUNCTUATE))).toBe(200);
    await waitFor(async () => (await harness.store.findRequest(b.requestId))?.state === 'succeeded');
    const [kept] = await harness.store.listDeliveries(a.requestId);
    expect(kept!.body.toString()).toBe('<html>oops</html>');
    await waitFor(async () => (await harness.store.listDeliveries(a.requestId))[0]!.parseState === 'unparseable');
  });

  it('answers 404 to 10 000 random, truncated or tampered paths without touching the store', async () => {
    const dbPath = tempDbPath();
    const store = await startHarness(dbPath).then(async (h) => {
      harness = h;
      return h.store;
    });
    const { callbackUrl } = await harness.mint();
    const before = harness.counts();
    // Re-create the receiver over a store that records every call made to it.
    await harness.receiver.close();
    const calls: string[] = [];
    const spy = new Proxy(store, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    // The indexer's idle sweep (every 2 s: receipts another instance left) is not the requests' doing.
    const indexer = createEnvelopeIndexer(spy, { sweepMs: 3_600_000 });
    const receiver = createReceiver({ store: spy, keyring: harness.keyring, pathPrefix: '/webhooks', indexer });
    const { port } = await receiver.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const paths = tamperedPaths(new URL(callbackUrl).pathname, 10_000);
    const statuses = new Map<number, number>();
    const body = JSON.stringify(sttEnvelope('forged'));
    for (let i = 0; i < paths.length; i += 50) {
      const results = await Promise.all(
        paths.slice(i, i + 50).map(async (path) => {
          try {
            return await post(base + (path.startsWith('/') ? path : `/${path}`), body);
          } catch {
            return -1; // a path the client itself cannot send (never reached the server)
          }
        }),
      );
      for (const status of results) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    await receiver.close();
    expect([...statuses.keys()].filter((s) => s !== 404 && s !== -1)).toEqual([]);
    expect(statuses.get(404)).toBeGreaterThan(9_900);
    expect(calls).toEqual([]);
    expect(harness.counts()).toEqual(before);
  });

  it('rejects a declared oversize body with 413 at once and keeps serving', async () => {
    harness = await startHarness(tempDbPath(), { maxBodyBytes: 64 * 1024 * 1024 });
    const { requestId, callbackUrl } = await harness.mint();
    const { socket, closed } = await rawConnect(Number(new URL(harness.baseUrl).port));
    socket.write(
      `POST ${new URL(callbackUrl).pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(1024 * 1024));
    expect(await closed).toMatch(/^HTTP\/1\.1 413 /);
    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('after-413')))).toBe(200);
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(1);
  });

  it('cuts off a chunked body at the limit with 413 and stores nothing of it', async () => {
    harness = await startHarness(tempDbPath(), { maxBodyBytes: 4 * 1024 * 1024 });
    const { requestId, callbackUrl } = await harness.mint();
    const port = Number(new URL(harness.baseUrl).port);
    const { response, sent } = await streamChunked(port, new URL(callbackUrl).pathname, 100 * 1024 * 1024);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeLessThan(100 * 1024 * 1024);
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(0);
    expect(await post(callbackUrl, '{"status":"Success"}')).toBe(200);
  });

  it('answers the push-notification validation handshake without storing it', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl, verificationToken } = await harness.mint({ kind: 'subscription' });
    const response = await fetch(callbackUrl, { method: 'POST', headers: { 'Validation-Token': 'tok-123' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('validation-token')).toBe('tok-123');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('date')).toBeNull();
    expect(await response.text()).toBe('');
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(0);
    // A notification that carries the header *and* a body is an event, not a handshake.
    // It must carry the subscription's Verification-Token (toward #12): the one minted with its URL.
    const headers = { 'Validation-Token': 'tok-123', 'Verification-Token': verificationToken };
    expect(await post(callbackUrl, '{"event":"x"}', headers)).toBe(200);
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(1);
  });

  it('serves only the webhook routes and /healthz on the public listener', async () => {
    harness = await startHarness(tempDbPath());
    const { callbackUrl } = await harness.mint();
    const health = await fetch(`${harness.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/api/requests'],
      ['POST', '/api/mint'],
      ['GET', new URL(callbackUrl).pathname],
      ['PUT', new URL(callbackUrl).pathname],
    ] as const) {
      const response = await fetch(harness.baseUrl + path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      await response.arrayBuffer();
    }
  });

  it('answers 503, never 200, while the store cannot commit, and recovers after', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { requestId, callbackUrl } = await harness.mint();
    // Another process holds the write lock past the store's busy timeout.
    const blocker = new Database(dbPath);
    blocker.exec('BEGIN IMMEDIATE');
    const body = JSON.stringify(sttEnvelope('job-locked'));
    expect(await post(callbackUrl, body)).toBe(503);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(await post(callbackUrl, body)).toBe(200);
    const deliveries = await indexedDeliveries(harness.store, requestId);
    expect(deliveries.map((d) => d.count)).toEqual([1]);
  });

  it('answers 503 when the store is closed and does not crash', async () => {
    harness = await startHarness(tempDbPath());
    const { callbackUrl } = await harness.mint();
    await harness.store.close();
    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('job-closed')))).toBe(503);
    // Still answering (no crash), and saying the store cannot take deliveries.
    expect((await fetch(`${harness.baseUrl}/healthz`)).status).toBe(503);
  });

  it('cuts off a client that stalls in its headers', async () => {
    harness = await startHarness(tempDbPath(), { headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const { socket, closed } = await rawConnect(Number(new URL(harness.baseUrl).port));
    socket.write(`POST /webhooks/${newRequestId()}/x HTTP/1.1\r\nHost: x\r\n`);
    const started = Date.now();
    const answer = await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});

describe('receiver over a store whose files or lock are taken away', () => {
  /** A pino logger that keeps its lines, to check what an operator would read. */
  function capturingLogger(): { logger: Logger; lines: string[] } {
    const lines: string[] = [];
    return { logger: pino({ level: 'error' }, { write: (line: string) => lines.push(line) }), lines };
  }

  async function statuses(callbackUrl: string, count: number): Promise<number[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => post(callbackUrl, JSON.stringify({ i }))));
  }

  // Before: the receiver went on answering 200 while SQLite committed into the unlinked file (all lost).
  it('answers 503, never 200, once the database file is removed, and logs the file', async () => {
    const { logger, lines } = capturingLogger();
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath, { logger });
    const { callbackUrl } = await harness.mint();
    expect(await post(callbackUrl, '{"before":true}')).toBe(200);
    unlinkSync(dbPath);
    expect(new Set(await statuses(callbackUrl, 20))).toEqual(new Set([503]));
    expect(lines.some((line) => line.includes(`${dbPath} was removed while open`))).toBe(true);
    // healthz answers at once, and says this instance cannot take deliveries until restarted.
    const health = await fetch(`${harness.baseUrl}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { problem: string }).problem).toContain(`${dbPath} was removed`);
  });

  // Before: with the spool folder removed, large bodies got 503 but small ones 200, and healthz said ok.
  it('answers 503 to every delivery once the spool folder of large bodies is removed', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { callbackUrl } = await harness.mint();
    rmSync(`${dbPath}-bodies`, { recursive: true });
    expect(new Set(await statuses(callbackUrl, 5))).toEqual(new Set([503]));
    expect((await fetch(`${harness.baseUrl}/healthz`)).status).toBe(503);
  });

  it('answers 503, never 200, once the WAL file is removed', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { callbackUrl } = await harness.mint();
    unlinkSync(`${dbPath}-wal`);
    expect(new Set(await statuses(callbackUrl, 20))).toEqual(new Set([503]));
  });

  it('answers 503, never 200, once another database is renamed over its file', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { callbackUrl } = await harness.mint();
    const other = `${dbPath}.other`;
    const fresh = new Database(other);
    fresh.pragma('journal_mode = WAL');
    fresh.close();
    renameSync(other, dbPath);
    expect(new Set(await statuses(callbackUrl, 20))).toEqual(new Set([503]));
  });

  // Before: SQLite's busy handler froze the event loop for each batch's whole wait, healthz included.
  it("keeps serving healthz during another process's 4 s lock, answers 503 after busyTimeoutMs, 200 after", async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { requestId, callbackUrl } = await harness.mint();
    await harness.close();
    const store = new SqliteStore({ path: dbPath, busyTimeoutMs: 1000 });
    const receiver = createReceiver({ store, keyring: harness.keyring, pathPrefix: '/webhooks' });
    const base = `http://127.0.0.1:${(await receiver.listen(0, '127.0.0.1')).port}`;
    const url = base + new URL(callbackUrl).pathname;
    const blocker = new Database(dbPath);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      const lockedUntil = Date.now() + 4_000;
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          blocker.exec('ROLLBACK');
          resolve();
        }, 4_000),
      );
      const timed = async (): Promise<{ status: number; ms: number }> => {
        const started = Date.now();
        const status = await post(url, JSON.stringify(sttEnvelope(`job-${started}`)));
        return { status, ms: Date.now() - started };
      };
      const deliveries = Promise.all([timed(), timed(), timed()]);
      const healthMs: number[] = [];
      while (Date.now() < lockedUntil - 500) {
        const started = Date.now();
        const health = await fetch(`${base}/healthz`);
        await health.arrayBuffer();
        healthMs.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const answered = await deliveries;
      // Each waited about its own 1 s (two batches may queue one after the other), never the 4 s lock.
      for (const { status, ms } of answered) {
        expect(status).toBe(503);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(3_000);
      }
      expect(healthMs.length).toBeGreaterThan(5);
      expect(Math.max(...healthMs)).toBeLessThan(500);
      await released;
      expect(await post(url, JSON.stringify(sttEnvelope('job-after')))).toBe(200);
      expect(await store.listDeliveries(requestId)).toHaveLength(1);
    } finally {
      blocker.close();
      await receiver.close();
      await store.close();
    }
  });
});
