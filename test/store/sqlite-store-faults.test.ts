import { spawnSync } from 'node:child_process';
import { renameSync, statSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import type { JobhookError } from '../../src/errors.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import type { IncomingDelivery } from '../../src/types.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDir } from '../helpers/temp.js';

function delivery(requestId: string, body: Buffer): IncomingDelivery {
  return { requestId, source: 'webhook', body, rawHeaders: [], receivedAtMs: Date.now() };
}

async function openStore(
  options: Partial<SqliteStoreOptions> = {},
): Promise<{ store: SqliteStore; path: string; requestId: string; problems: JobhookError[] }> {
  const path = options.path ?? join(tempDir(), 'jobhook.db');
  const problems: JobhookError[] = [];
  const store = new SqliteStore({ path, onProblem: (e) => problems.push(e), ...options });
  const requestId = newRequestId();
  await store.createRequest({ requestId, kind: 'job', callbackUrl: `http://x/webhooks/${requestId}/t` });
  return { store, path, requestId, problems };
}

const walSize = (path: string): number => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
const body = (n: number, bytes = 8 * 1024): Buffer => Buffer.alloc(bytes, n % 251);

describe('SqliteStore file faults', () => {
  // Before: SQLite went on committing into the unlinked inode; every write "succeeded" and was lost.
  it('refuses writes once its database file is removed, naming the file, and tells onProblem once', async () => {
    const { store, path, requestId, problems } = await openStore();
    await store.recordDeliveries([delivery(requestId, body(1))]);
    unlinkSync(path);
    for (let i = 0; i < 3; i++) {
      await expect(store.recordDeliveries([delivery(requestId, body(2))])).rejects.toMatchObject({
        code: 'JH_ERR_STORE_UNAVAILABLE',
        message: expect.stringContaining(`${path} was removed while open`) as string,
      });
    }
    await expect(store.createRequest({ requestId: newRequestId(), kind: 'job', callbackUrl: 'x' })).rejects.toThrow(
      /restart jobhook/,
    );
    expect(problems).toHaveLength(1);
    await store.close();
  });

  it('refuses writes once its WAL file is removed', async () => {
    const { store, path, requestId } = await openStore();
    unlinkSync(`${path}-wal`);
    await expect(store.recordDeliveries([delivery(requestId, body(1))])).rejects.toMatchObject({
      code: 'JH_ERR_STORE_UNAVAILABLE',
      message: expect.stringContaining(`${path}-wal was removed while open`) as string,
    });
    await store.close();
  });

  it('refuses writes once another database file is renamed over its own', async () => {
    const { store, path, requestId } = await openStore();
    const other = join(tempDir(), 'other.db');
    new Database(other).close();
    renameSync(other, path);
    await expect(store.recordDeliveries([delivery(requestId, body(1))])).rejects.toThrow(
      `${path} was replaced by another file while open`,
    );
    await store.close();
  });

  it('notices a removed file between writes, with no write needed', async () => {
    const { store, path, problems } = await openStore({ fileCheckIntervalMs: 50 });
    unlinkSync(path);
    await waitFor(() => problems.length === 1, 5_000);
    expect(problems[0]!.message).toContain(path);
    await store.close();
  });
});

describe('SqliteStore lock waits', () => {
  // Before: better-sqlite3 waited inside SQLite's busy handler, so the event loop froze for the whole wait.
  it("waits for another connection's lock without freezing the event loop, then commits", async () => {
    const { store, path, requestId } = await openStore({ busyTimeoutMs: 3_000 });
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    setTimeout(() => blocker.exec('ROLLBACK'), 600);
    let last = Date.now();
    let longestGapMs = 0;
    const ticker = setInterval(() => {
      longestGapMs = Math.max(longestGapMs, Date.now() - last);
      last = Date.now();
    }, 10);
    const started = Date.now();
    try {
      await store.recordDeliveries([delivery(requestId, body(1))]);
    } finally {
      clearInterval(ticker);
      blocker.close();
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    // The old synchronous wait showed a single gap of the whole 600 ms lock.
    expect(longestGapMs).toBeLessThan(300);
    expect(await store.listDeliveries(requestId)).toHaveLength(1);
    await store.close();
  });

  it('gives up after busyTimeoutMs with JH_ERR_STORE_UNAVAILABLE, not after the whole lock', async () => {
    const { store, path, requestId } = await openStore({ busyTimeoutMs: 300 });
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    try {
      await expect(store.recordDeliveries([delivery(requestId, body(1))])).rejects.toMatchObject({
        code: 'JH_ERR_STORE_UNAVAILABLE',
        message: expect.stringContaining('held the lock') as string,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    await store.recordDeliveries([delivery(requestId, body(2))]);
    await store.close();
  });
});

describe('SqliteStore WAL size', () => {
  // Before: the WAL kept ~4 MiB (the autocheckpoint threshold) or the largest batch forever.
  it('truncates the WAL after a burst of 3000 deliveries of 8 KiB once writes pause, and reopens', async () => {
    const { store, path, requestId } = await openStore({ checkpointIdleMs: 200 });
    let peakWalBytes = 0;
    for (let batch = 0; batch < 30; batch++) {
      await store.recordDeliveries(Array.from({ length: 100 }, (_, i) => delivery(requestId, body(batch * 100 + i))));
      peakWalBytes = Math.max(peakWalBytes, walSize(path));
    }
    // Under load: the automatic checkpoint threshold (~4 MiB) plus one 800 KiB batch, never the 24 MiB written.
    expect(peakWalBytes).toBeLessThan(6 * 1024 * 1024);
    await waitFor(() => walSize(path) === 0, 10_000);
    await store.close();
    const reopened = new SqliteStore({ path });
    expect(await reopened.listDeliveries(requestId)).toHaveLength(3000);
    await reopened.close();
  });

  it('shrinks the WAL a single large batch grew', async () => {
    const { store, path, requestId } = await openStore({ checkpointIdleMs: 200 });
    await store.recordDeliveries([delivery(requestId, body(1, 16 * 1024 * 1024))]);
    expect(walSize(path)).toBeGreaterThan(16 * 1024 * 1024);
    await waitFor(() => walSize(path) === 0, 10_000);
    await store.close();
  });

  it('folds in and truncates a WAL left behind by a killed process when it opens', () => {
    const path = join(tempDir(), 'jobhook.db');
    const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    // A writer that is killed mid-life leaves its WAL (the last connection never closed to checkpoint it).
    const script = `
      const Database = require(${JSON.stringify(betterSqlite)});
      const db = new Database(${JSON.stringify(path)});
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE filler (b BLOB)');
      const insert = db.prepare('INSERT INTO filler VALUES (?)');
      for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(8192, i));
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    expect(walSize(path)).toBeGreaterThan(1024 * 1024);
    const store = new SqliteStore({ path });
    expect(walSize(path)).toBe(0);
    return store.close();
  });
});
