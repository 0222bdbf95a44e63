import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { newRequestId } from '../../src/callback/request-id.js';
import { isJobhookError } from '../../src/errors.js';
import { splitOptions } from '../../src/store/postgres/database.js';
import { migrate, readMigrations } from '../../src/store/postgres/migrate.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import { freshSchema, skipWithoutPostgres, type FreshSchema } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { receipt, recordingParser, sleep } from './contract-helpers.js';

/** PostgreSQL-only behaviour: migrations across instances, indexing by several instances, notifications. */
describe.skipIf(skipWithoutPostgres('PostgresStore'))('PostgresStore', () => {
  let fresh: FreshSchema;
  const opened: PostgresStore[] = [];
  const open = async (): Promise<PostgresStore> => {
    const store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 4 });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await fresh.drop();
  });

  describe('migrations', () => {
    beforeEach(async () => {
      // Not created: the first store to take the migration lock creates it.
      fresh = await freshSchema({ create: false });
    });

    it('run once when three instances open a new schema at the same moment', async () => {
      const stores = await Promise.all([open(), open(), open()]);
      const applied = await fresh.sql<{ version: number; name: string }>(
        'SELECT version, name FROM jobhook_migrations ORDER BY version',
      );
      expect(applied).toEqual(readMigrations().map(({ version, name }) => ({ version, name })));
      await stores[0].putSetting('k', 'v');
      expect(await Promise.all(stores.map((s) => s.getSetting('k')))).toEqual(['v', 'v', 'v']);
    });

    it('refuse a schema a newer jobhook migrated, before touching it', async () => {
      await (await open()).close();
      await fresh.sql(
        `INSERT INTO jobhook_migrations (version, name, applied_at) VALUES (99, '0099_from_the_future.sql', 0)`,
      );
      const tables = async () =>
        fresh.sql('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [
          fresh.schema,
        ]);
      const before = await tables();
      const error = await open().catch((e: unknown) => e);
      expect(isJobhookError(error, 'JH_ERR_MIGRATION_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(
        /schema 99 \(0099_from_the_future\.sql\), newer than this jobhook knows \(\d+\).*upgrade this one, or use another --db/,
      );
      expect(await tables()).toEqual(before);
    });

    it('apply each file in its own transaction: a failing one records nothing of itself', async () => {
      const client = new pg.Client({ connectionString: fresh.url, options: `-c search_path=${fresh.schema}` });
      await client.connect();
      try {
        const version = readMigrations().length + 1;
        const broken = {
          version,
          name: `000${version}_broken.sql`,
          sql: 'CREATE TABLE half_done (x int); SELECT 1/0;',
        };
        const error = await migrate(client, fresh.schema, [...readMigrations(), broken]).catch((e: unknown) => e);
        expect(isJobhookError(error, 'JH_ERR_MIGRATION_FAILED')).toBe(true);
        expect((error as Error).message).toMatch(/_broken\.sql failed: division by zero/);
        expect(await fresh.sql('SELECT version FROM jobhook_migrations ORDER BY version')).toEqual(
          readMigrations().map((m) => ({ version: m.version })),
        );
        expect(await fresh.sql(`SELECT to_regclass('half_done') AS t`)).toEqual([{ t: null }]);
        // The lock was released: the next instance migrates.
        await open();
      } finally {
        await client.end();
      }
    });
  });

  describe('the connection URL', () => {
    beforeEach(async () => {
      fresh = await freshSchema({ create: false });
    });

    it("keeps jobhook's schema and synchronous_commit when the URL carries libpq `options` of its own", async () => {
      // Found testing from outside (issue #11): pg lets a URL's `options=` replace the config's, so the tables
      // went to `public` and a `synchronous_commit=off` in the URL would have made the 200 a broken promise.
      const url = new URL(fresh.url);
      url.searchParams.set('options', '-c synchronous_commit=off -c search_path=public -c statement_timeout=60000');
      const store = await PostgresStore.open({ connectionString: url.toString(), schema: fresh.schema, poolSize: 2 });
      opened.push(store);
      await store.putSetting('k', 'v');
      const tables = await fresh.sql<{ n: string }>(
        "SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'settings'",
        [fresh.schema],
      );
      expect(tables).toEqual([{ n: '1' }]);
      // search_path=public came first and jobhook's own settings after it, so jobhook's won (tables in its
      // schema); synchronous_commit=on rides in the same place, after the URL's `off`.
      const { userOptions, connectionString } = splitOptions(url.toString());
      expect(userOptions).toContain('synchronous_commit=off');
      expect(connectionString).not.toContain('options=');
      expect(await store.getSetting('k')).toBe('v');
    });
  });

  describe('two instances', () => {
    beforeEach(async () => {
      fresh = await freshSchema();
    });

    it('index 500 receipts side by side: each once, duplicates folded, each request settled once, one run each', async () => {
      const [a, b] = [await open(), await open()];
      await a.registerHandler('h', null);
      const requests = [...Array(100).keys()].map(() => newRequestId());
      for (const id of requests) await a.createRequest({ requestId: id, kind: 'job', callbackUrl: `u/${id}` });
      const body = (id: string, status: string, n: number) =>
        Buffer.from(JSON.stringify({ jobId: `job-${id}`, status, n }));
      const heard: RequestSettledEvent[] = [];
      a.onSettled((e) => heard.push(e));
      // A records 300 distinct bodies. B records 200 more: a byte-identical copy of each request's first body,
      // and for even requests a copy of its Success, for odd ones a Fail of its own (two terminal envelopes
      // racing: only the first indexed may settle).
      const fromA = requests.flatMap((id) => [
        body(id, 'InProgress', 1),
        body(id, 'InProgress', 2),
        body(id, 'Success', 3),
      ]);
      const fromB = requests.flatMap((id, i) => [
        body(id, 'InProgress', 1),
        i % 2 === 0 ? body(id, 'Success', 3) : body(id, 'Fail', 4),
      ]);
      let recording = true;
      const record = async () => {
        for (let i = 0; i < 300; i += 30) {
          await Promise.all([
            a.recordDeliveries(
              fromA.slice(i, i + 30).map((bytes, k) => receipt(requests[Math.floor((i + k) / 3)]!, bytes)),
            ),
            b.recordDeliveries(
              fromB
                .slice((i / 3) * 2, (i / 3) * 2 + 20)
                .map((bytes, k) => receipt(requests[Math.floor(((i / 3) * 2 + k) / 2)]!, bytes)),
            ),
          ]);
        }
        recording = false;
      };
      const passes: { examined: number; duplicates: number; settled: RequestSettledEvent[] }[] = [];
      const index = async (store: PostgresStore) => {
        for (;;) {
          const pass = await store.indexDeliveries(recordingParser().rules, 20);
          passes.push(pass);
          if (pass.examined === 0 && !recording) return;
          if (pass.examined === 0) await sleep(1);
        }
      };
      await Promise.all([record(), index(a), index(b), index(a), index(b)]);

      expect(passes.reduce((n, p) => n + p.examined, 0)).toBe(500);
      expect(passes.reduce((n, p) => n + p.duplicates, 0)).toBe(150);
      const settled = passes.flatMap((p) => p.settled.map((s) => s.requestId));
      expect(settled.sort()).toEqual([...requests].sort());
      expect(await fresh.sql('SELECT count(*)::int AS n FROM deliveries WHERE indexed_at IS NULL')).toEqual([{ n: 0 }]);
      for (const [i, id] of requests.entries()) {
        const counts = (await b.listDeliveries(id)).map((d) => [
          (JSON.parse(d.body.toString()) as { n: number }).n,
          d.count,
          d.parseState,
        ]);
        expect(counts.sort()).toEqual(
          i % 2 === 0
            ? [
                [1, 2, 'parsed'],
                [2, 1, 'parsed'],
                [3, 2, 'parsed'],
              ]
            : [
                [1, 2, 'parsed'],
                [2, 1, 'parsed'],
                [3, 1, 'parsed'],
                [4, 1, 'parsed'],
              ],
        );
        expect(await a.findRequest(id)).toMatchObject({
          deliveryCount: 5,
          state: expect.stringMatching(/succeeded|failed/),
        });
      }
      const runs = await fresh.sql<{ request_id: string; n: number }>(
        'SELECT request_id, count(*)::int AS n FROM handler_runs GROUP BY request_id',
      );
      expect(runs.map((r) => r.request_id).sort()).toEqual([...requests].sort());
      expect(runs.every((r) => r.n === 1)).toBe(true);
      // A heard every settlement once: its own right after commit, B's through NOTIFY, none twice.
      await waitFor(() => heard.length >= 100);
      await sleep(200);
      expect(heard.map((e) => e.requestId).sort()).toEqual([...requests].sort());
    });
  });
});
