import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring, generateSecret } from '../../src/callback/callback-url.js';
import { createEmulator } from '../../src/emulator/server.js';
import { createReceiver } from '../../src/receiver/receiver.js';
import { asyncApiName, JOB_STATUS_PATH } from '../../src/ringcentral/apis.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { freshSchema, skipWithoutPostgres } from '../helpers/postgres.js';
import { startHarness } from '../helpers/receiver-harness.js';
import { assertBuiltWithBudget, runSubmitter, type SubmitterStore } from '../helpers/rate-processes.js';
import { maxInAnyWindow } from '../helpers/rate-windows.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** The check, scaled from 10/min to 10/10 s so that it fits the suite (about 25 s per backend). */
const LIMIT = { limit: 10, windowMs: 10_000, penaltyMs: 10_000 };
const PROCESSES = 3;
const JOBS_EACH = 10;

/** The database the processes share, with a receiver on it in this process for their callback URLs. */
interface Shared {
  store: Store;
  submitterStore: SubmitterStore;
  publicUrl: string;
}

const onSqlite = async (): Promise<Shared> => {
  const dbPath = tempDbPath();
  const harness = await startHarness(dbPath);
  cleanups.push(() => harness.close());
  return { store: harness.store, submitterStore: { sqlite: dbPath }, publicUrl: harness.baseUrl };
};

const onPostgres = async (): Promise<Shared> => {
  const fresh = await freshSchema();
  cleanups.push(() => fresh.drop());
  const store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 4 });
  cleanups.push(() => store.close());
  const keyring = createKeyring(await store.ensureSecrets(generateSecret));
  const receiver = createReceiver({ store, keyring, pathPrefix: '/webhooks' });
  const { port } = await receiver.listen(0, '127.0.0.1');
  cleanups.push(() => receiver.close());
  return {
    store,
    submitterStore: { postgres: { url: fresh.url, schema: fresh.schema } },
    publicUrl: `http://127.0.0.1:${port}`,
  };
};

function threeProcesses(name: string, share: () => Promise<Shared>): void {
  describe(`three processes on one ${name}, one app and user, the emulator limited to 10 per 10 s`, () => {
    it('complete 30 submissions; the emulator never refuses one nor sees more than 10 in a window', async () => {
      assertBuiltWithBudget();
      const emulator = createEmulator({ rateLimit: LIMIT, latency: { minMs: 100, maxMs: 300 } });
      const emulatorUrl = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
      cleanups.push(() => emulator.close());
      // Every request of the Heavy group (submissions, status reads) as it arrives.
      const heavy: number[] = [];
      emulator.server.on('request', (req) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if ((req.method === 'POST' && asyncApiName(path)) || path.startsWith(JOB_STATUS_PATH)) heavy.push(Date.now());
      });
      const shared = await share();

      const reports = await Promise.all(
        Array.from({ length: PROCESSES }, (_, p) =>
          runSubmitter(
            {
              store: shared.submitterStore,
              publicUrl: shared.publicUrl,
              server: emulatorUrl,
              jwt: fakeJwt('rate-test-user'), // one user: one budget, and one client to the emulator
              texts: Array.from({ length: JOBS_EACH }, (_, i) => `process ${p} message ${i}`),
              rateBudget: { capacity: LIMIT.limit, windowMs: LIMIT.windowMs },
              resultTimeoutMs: 60_000,
            },
            80_000,
          ),
        ),
      );

      expect(new Set(reports.map((r) => r.pid)).size).toBe(PROCESSES);
      reports.forEach((report, p) =>
        expect(report.results).toEqual(Array.from({ length: JOBS_EACH }, (_, i) => `Process ${p} message ${i}.`)),
      );
      const stats = (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as {
        answered: Record<string, number>;
        jobs: number;
      };
      expect(stats.answered['429'] ?? 0).toBe(0);
      expect(stats.jobs).toBe(PROCESSES * JOBS_EACH); // nothing submitted twice
      expect(heavy).toHaveLength(PROCESSES * JOBS_EACH);
      expect(maxInAnyWindow(heavy, LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.limit);
      const requests = await shared.store.listRequests({ limit: 100 });
      expect(requests.filter((r) => r.submitState === 'accepted' && r.state === 'succeeded')).toHaveLength(30);
    }, 90_000);
  });
}

threeProcesses('SQLite file', onSqlite);
if (skipWithoutPostgres('Three processes sharing a rate budget on PostgreSQL')) {
  describe.skip('three processes on one PostgreSQL schema', () => {
    it('needs JOBHOOK_TEST_DATABASE_URL', () => undefined);
  });
} else {
  threeProcesses('PostgreSQL schema', onPostgres);
}
