import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { isJobhookError } from '../../src/errors.js';
import { PostgresStore, settlementChannel } from '../../src/store/postgres/postgres-store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import { freshSchema, pgProxy, skipWithoutPostgres, type FreshSchema, type PgProxy } from '../helpers/postgres.js';
import { closedPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { mint, receipt, settle } from './contract-helpers.js';

/**
 * PostgreSQL going away: a LISTEN connection killed by the server, a server that does not answer at all,
 * and one that stops and comes back (a TCP relay in front of the shared test server is cut and reopened;
 * the server itself is never stopped here).
 */
describe.skipIf(skipWithoutPostgres('PostgresStore faults'))('PostgresStore faults', () => {
  let fresh: FreshSchema;
  let proxy: PgProxy | null = null;
  const opened: PostgresStore[] = [];
  const open = async (url = fresh.url): Promise<PostgresStore> => {
    const store = await PostgresStore.open({ connectionString: url, schema: fresh.schema, poolSize: 4 });
    opened.push(store);
    return store;
  };
  beforeEach(async () => {
    fresh = await freshSchema();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await proxy?.stop();
    proxy = null;
    await fresh.drop();
  });

  /** The backend pid of the store's LISTEN connection, once it listens. */
  const listenerPid = () =>
    waitFor(async () => {
      const rows = await fresh.sql<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'jobhook-listen' AND query = $1`,
        [`LISTEN "${settlementChannel(fresh.schema)}"`],
      );
      return rows[0]?.pid;
    });

  it('re-listens after the server kills its LISTEN connection, resyncs once, and hears settlements again', async () => {
    const [a, b] = [await open(), await open()];
    const events: RequestSettledEvent[] = [];
    let resyncs = 0;
    a.onSettled(
      (e) => events.push(e),
      () => resyncs++,
    );
    const first = await listenerPid();
    // Subscribing before the connection listened may have missed hints: one resync covers that window.
    await waitFor(() => resyncs === 1);
    const before = await mint(b);
    await settle(b, before, 'Success', 'job-before');
    await waitFor(() => events.length === 1);

    await fresh.sql('SELECT pg_terminate_backend($1)', [first]);
    await waitFor(() => resyncs === 2);
    expect(await listenerPid()).not.toBe(first);
    const after = await mint(b);
    await settle(b, after, 'Fail', 'job-after');
    await waitFor(() => events.length === 2);
    expect(events.map((e) => [e.requestId, e.state])).toEqual([
      [before, 'succeeded'],
      [after, 'failed'],
    ]);
    expect(resyncs).toBe(2);
    expect(a.health()).toEqual({ ok: true });
  });

  it('is unavailable, not broken, when nothing answers at the address', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/test`;
    const error = await PostgresStore.open({ connectionString: url, schema: fresh.schema }).catch((e: unknown) => e);
    expect(isJobhookError(error, 'JH_ERR_STORE_UNAVAILABLE')).toBe(true);
    const store = new PostgresStore({ connectionString: url, schema: fresh.schema });
    opened.push(store);
    expect(store.health()).toEqual({ ok: true });
    await expect(store.recordDeliveries([receipt(newRequestId(), Buffer.from('{}'))])).rejects.toMatchObject({
      code: 'JH_ERR_STORE_UNAVAILABLE',
    });
    expect(store.health()).toEqual({ ok: false, problem: expect.stringMatching(/unreachable/) });
    await expect(store.openBodySink()).rejects.toMatchObject({ code: 'JH_ERR_STORE_UNAVAILABLE' });
  });

  it('answers unavailable when a statement outlasts its timeout (a held lock), without calling it an outage', async () => {
    const store = await PostgresStore.open({
      connectionString: fresh.url,
      schema: fresh.schema,
      statementTimeoutMs: 200,
    });
    opened.push(store);
    await store.putSetting('k', 'v1');
    await fresh.sql('BEGIN');
    try {
      await fresh.sql(`SELECT * FROM settings WHERE key = 'k' FOR UPDATE`);
      await expect(store.putSetting('k', 'v2')).rejects.toMatchObject({
        code: 'JH_ERR_STORE_UNAVAILABLE',
        message: expect.stringMatching(/statement timeout/),
      });
      expect(store.health()).toEqual({ ok: true });
    } finally {
      await fresh.sql('ROLLBACK');
    }
    await store.putSetting('k', 'v3');
    expect(await store.getSetting('k')).toBe('v3');
  });

  it('answers unavailable while the database is gone and recovers by itself when it is back', async () => {
    proxy = await pgProxy();
    const problems: string[] = [];
    const store = await PostgresStore.open({
      connectionString: proxy.url,
      schema: fresh.schema,
      poolSize: 4,
      onProblem: (e) => problems.push(e.code),
    });
    opened.push(store);
    const watcher = await open();
    const requestId = await mint(store);
    let resyncs = 0;
    store.onSettled(
      () => undefined,
      () => resyncs++,
    );
    await waitFor(() => resyncs === 1);
    await store.recordDeliveries([receipt(requestId, Buffer.from('{"n":1}'))]);

    // Every connection is cut. The idle pooled ones say so first: the store turns unhealthy before any call
    // (and their errors must not crash the process).
    await proxy.stop();
    await waitFor(() => !store.health().ok);
    const down = await store.recordDeliveries([receipt(requestId, Buffer.from('{"n":2}'))]).catch((e: unknown) => e);
    expect(isJobhookError(down, 'JH_ERR_STORE_UNAVAILABLE')).toBe(true);
    expect(store.health()).toMatchObject({ ok: false });
    await expect(store.findRequest(requestId)).rejects.toMatchObject({ code: 'JH_ERR_STORE_UNAVAILABLE' });
    expect(problems).toEqual(['JH_ERR_STORE_UNAVAILABLE']);

    await proxy.start();
    // No call needed: the store's own probe notices, and its LISTEN connection comes back with a resync.
    await waitFor(() => store.health().ok, 5000);
    await waitFor(() => resyncs === 2, 10_000);
    await store.recordDeliveries([receipt(requestId, Buffer.from('{"n":3}'))]);
    expect((await watcher.listDeliveries(requestId)).map((d) => d.body.toString())).toEqual(['{"n":1}', '{"n":3}']);
  });
});
