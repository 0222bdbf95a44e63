import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processSpace } from '../../src/store/machine.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { freshSchema, skipWithoutPostgres, type FreshSchema } from '../helpers/postgres.js';
import { mint } from './contract-helpers.js';

/**
 * The dead-owner fast path of `markInterruptedSubmissions` on PostgreSQL: a pid is only taken for dead when
 * its instance runs in this process space (host, boot, pid namespace). A container sharing the host name
 * has pids of its own, which `kill(pid, 0)` here says nothing about; only its heartbeat counts.
 */
describe.skipIf(skipWithoutPostgres('PostgresStore instances'))('PostgresStore instances', () => {
  let fresh: FreshSchema;
  let store: PostgresStore;
  beforeEach(async () => {
    fresh = await freshSchema();
    store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 2 });
  });
  afterEach(async () => {
    await store.close();
    await fresh.drop();
  });

  /** A request `submitting` on behalf of `owner`, an instance on `host` whose heartbeat is fresh. */
  const inFlight = async (owner: string, host: string, pid: number): Promise<string> => {
    await fresh.sql(
      `INSERT INTO instances (owner, host, pid, started_at, heartbeat_at)
       SELECT $1, $2, $3, t.ms, t.ms FROM (SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms) t`,
      [owner, host, pid],
    );
    const requestId = await mint(store);
    await fresh.sql(`UPDATE requests SET submit_state = 'submitting', submit_owner = $2 WHERE request_id = $1`, [
      requestId,
      owner,
    ]);
    return requestId;
  };

  it('registers under its process space and takes only that space’s exited pids for dead', async () => {
    const own = await mint(store);
    await store.updateSubmission(own, { state: 'submitting' });
    expect(await fresh.sql('SELECT host, pid FROM instances')).toEqual([{ host: processSpace(), pid: process.pid }]);

    // A pid that existed here and exited.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const exited = await inFlight('exited-here', processSpace(), gone);
    const twin = await inFlight('container-with-this-host-name', hostname(), gone);
    expect(await store.markInterruptedSubmissions()).toEqual([exited]);
    expect(await store.findRequest(twin)).toMatchObject({ submitState: 'submitting' });
    expect(await store.findRequest(own)).toMatchObject({ submitState: 'submitting' });
  });
});
