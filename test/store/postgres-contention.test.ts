import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import { freshSchema, pgProxy, skipWithoutPostgres, type FreshSchema, type PgProxy } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { sleep } from './contract-helpers.js';

/**
 * A store waiting on locks another instance holds (issue #11 review): a rate grant must be dated from when
 * its turn came, and a pool whose every connection waits is busy, not the database unreachable.
 */
describe.skipIf(skipWithoutPostgres('PostgresStore under contention'))('PostgresStore under contention', () => {
  let fresh: FreshSchema;
  let proxy: PgProxy | null = null;
  const opened: PostgresStore[] = [];
  const limits = { capacity: 100, windowMs: 60_000 };
  const open = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
    const store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, ...options });
    opened.push(store);
    return store;
  };
  /** The test's own connection takes the budget row's lock, in a transaction left open. */
  const lockBudgetRow = async (): Promise<number> => {
    await fresh.sql('BEGIN');
    await fresh.sql(`SELECT * FROM rate_budgets WHERE key = 'k' FOR UPDATE`);
    return (await fresh.sql<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
  };
  /** Until some session waits for a lock `holder` holds. */
  const blockedBy = (holder: number) =>
    waitFor(async () => {
      // Asked from inside the holder's transaction, which would otherwise keep its first view of the sessions.
      await fresh.sql('SELECT pg_stat_clear_snapshot()');
      const rows = await fresh.sql('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holder]);
      return rows.length > 0;
    });
  const dbNow = async () =>
    (await fresh.sql<{ t: number }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS t'))[0]!.t;
  beforeEach(async () => {
    fresh = await freshSchema();
  });
  afterEach(async () => {
    await fresh.sql('ROLLBACK').catch(() => undefined);
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await proxy?.stop();
    proxy = null;
    await fresh.drop();
  });

  it('dates a rate grant from when the row lock came free, not from when the take began waiting', async () => {
    const store = await open();
    await store.takeRateToken('k', limits);
    const holder = await lockBudgetRow();
    const take = store.takeRateToken('k', limits);
    await blockedBy(holder);
    await sleep(1500);
    const released = await dbNow();
    await fresh.sql('COMMIT');
    expect(await take).toBe(0);
    const [row] = await fresh.sql<{ grants: string }>(`SELECT grants FROM rate_budgets WHERE key = 'k'`);
    const grants = JSON.parse(row!.grants) as number[];
    expect(grants).toHaveLength(2);
    expect(Math.max(...grants)).toBeGreaterThanOrEqual(Math.floor(released));
  });

  it('calls a pool whose only connection waits on a lock busy, and stays healthy', async () => {
    const problems: string[] = [];
    const store = await open({ poolSize: 1, connectTimeoutMs: 300, onProblem: (e) => problems.push(e.message) });
    await store.takeRateToken('k', limits);
    const holder = await lockBudgetRow();
    const take = store.takeRateToken('k', limits);
    await blockedBy(holder);

    await expect(store.findRequest('nothing')).rejects.toMatchObject({
      code: 'JH_ERR_STORE_UNAVAILABLE',
      message: expect.stringMatching(/^cannot find a request: the pool is busy/),
    });
    expect(store.health()).toEqual({ ok: true });
    await fresh.sql('COMMIT');
    expect(await take).toBe(0);
    expect(await store.findRequest('nothing')).toBeUndefined();
    expect(store.health()).toEqual({ ok: true });
    expect(problems).toEqual([]);
  });

  it('sees the database answer again, after an outage, while its only pooled connection waits on a lock', async () => {
    proxy = await pgProxy();
    const store = await open({ connectionString: proxy.url, poolSize: 1, connectTimeoutMs: 300 });
    await store.takeRateToken('k', limits);
    const holder = await lockBudgetRow();
    await proxy.stop();
    await expect(store.findRequest('nothing')).rejects.toMatchObject({ code: 'JH_ERR_STORE_UNAVAILABLE' });
    expect(store.health()).toMatchObject({ ok: false, problem: expect.stringMatching(/unreachable/) });

    // Back, but the one pooled connection goes at once to a statement that waits on the lock: only a
    // probe outside the pool can tell the server answers.
    await proxy.start();
    let taken = false;
    const take = store.takeRateToken('k', limits).finally(() => (taken = true));
    await blockedBy(holder);
    await waitFor(() => store.health().ok);
    expect(taken).toBe(false);
    await fresh.sql('COMMIT');
    expect(await take).toBe(0);
  });
});
