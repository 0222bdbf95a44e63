import Database from 'better-sqlite3';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobhook } from '../../src/client/jobhook.js';
import { RateGate, type RateGateOptions } from '../../src/client/rate-gate.js';
import type { PlatformAnswer } from '../../src/ringcentral/platform.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RateBudget, Store } from '../../src/store/store.js';
import { freshSchema, pgProxy, skipWithoutPostgres } from '../helpers/postgres.js';
import { startHarness } from '../helpers/receiver-harness.js';
import { answer, maxInAnyWindow } from '../helpers/rate-windows.js';
import { tempDbPath } from '../helpers/temp.js';
import { startFakePlatform } from '../ringcentral/fake-platform.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const KEY = 'heavy:shared-test';
const SMALL = { capacity: 3, windowMs: 1000 };

/** Two stores on one database, as two processes would have: the budget's two sides. */
type OpenPair = () => Promise<[RateBudget, RateBudget]>;

const sqlitePair: OpenPair = async () => {
  const path = tempDbPath();
  const stores = [new SqliteStore({ path }), new SqliteStore({ path })] as const;
  for (const store of stores) cleanups.push(() => store.close());
  return [...stores];
};

/** Two PostgresStores (two pools, two owners) on one fresh schema, as two instances of a fleet. */
const postgresPair: OpenPair = async () => {
  const fresh = await freshSchema();
  cleanups.push(() => fresh.drop());
  const open = async (): Promise<PostgresStore> => {
    const store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 2 });
    cleanups.push(() => store.close());
    return store;
  };
  return [await open(), await open()];
};

function gateOn(store: RateBudget, options: Omit<RateGateOptions, 'budget'> = {}, limits = SMALL): RateGate {
  const gate = new RateGate({ maxInFlight: 4, ...options, budget: { store, key: KEY, limits } });
  cleanups.push(() => gate.close());
  return gate;
}

/** A call that records when it started and answers at once. */
function recorder(starts: number[], reply: PlatformAnswer = answer(200)): () => Promise<PlatformAnswer> {
  return () => {
    starts.push(Date.now());
    return Promise.resolve(reply);
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function budgetSuite(name: string, openPair: OpenPair): void {
  describe(`two gates sharing one budget (${name})`, () => {
    it('never start more than capacity calls in any window between them', async () => {
      const [a, b] = await openPair();
      const gates = [gateOn(a), gateOn(b)];
      const starts: number[] = [];
      const byGate = [0, 0];
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => gates[i % 2]!.run(() => (byGate[i % 2]!++, recorder(starts)()))),
      );
      expect(starts).toHaveLength(12);
      expect(byGate).toEqual([6, 6]);
      // Alone, each gate would have let its 6 through at once (4 in flight, calls answer at once).
      expect(maxInAnyWindow(starts, SMALL.windowMs)).toBe(SMALL.capacity);
    }, 20_000);

    it('holds gate B for a Retry-After that only gate A heard', async () => {
      const [a, b] = await openPair();
      const limits = { capacity: 10, windowMs: 60_000 };
      const gateA = gateOn(a, {}, limits);
      const gateB = gateOn(b, {}, limits);
      await gateA.run(() => Promise.resolve(answer(429, { 'retry-after': '2' })));
      const heardAt = Date.now();
      const startsB: number[] = [];
      await gateB.run(recorder(startsB));
      expect(gateB.blockedUntilMs).toBe(0); // B heard nothing itself: the hold came through the store
      expect(startsB[0]! - heardAt).toBeGreaterThanOrEqual(2000 - 20);
    }, 20_000);

    it("fills the window as the platform's X-Rate-Limit-Remaining counted it, for everyone", async () => {
      const [a, b] = await openPair();
      const gateA = gateOn(a);
      const gateB = gateOn(b);
      // The platform counted 2 of 3 used (another app instance, say) though A made one call.
      const told = answer(200, {
        'x-rate-limit-limit': '3',
        'x-rate-limit-remaining': '1',
        'x-rate-limit-window': '1',
      });
      await gateA.run(() => Promise.resolve(told));
      const heardAt = Date.now();
      const startsB: number[] = [];
      await Promise.all([gateB.run(recorder(startsB)), gateB.run(recorder(startsB))]);
      expect(startsB[0]! - heardAt).toBeLessThan(SMALL.windowMs); // the one grant left
      expect(startsB[1]! - heardAt).toBeGreaterThanOrEqual(SMALL.windowMs - 50); // then the window had to pass
    }, 20_000);

    it('gives low priority (status reads) nothing while submissions use the budget', async () => {
      const [a, b] = await openPair();
      const submitter = gateOn(a);
      const reconciler = gateOn(b);
      const high: number[] = [];
      const low: number[] = [];
      await Promise.all([submitter.run(recorder(high)), submitter.run(recorder(high))]);
      // One grant of three is left: exactly the reserve (30 %, at least 1), which status reads leave alone.
      const read = reconciler.run(recorder(low), { low: true });
      await pause(100);
      expect(low).toHaveLength(0);
      await submitter.run(recorder(high)); // a submission still takes it at once
      expect(high[2]! - high[0]!).toBeLessThan(SMALL.windowMs);
      await read;
      expect(low[0]!).toBeGreaterThan(high[2]!);
      expect(low[0]! - high[0]!).toBeGreaterThanOrEqual(SMALL.windowMs);
    }, 20_000);

    it('lets a submission queued behind a waiting status read go as soon as one grant frees, in one gate', async () => {
      const [a] = await openPair();
      const gate = gateOn(a);
      const fills: number[] = [];
      await gate.run(recorder(fills));
      await pause(300);
      await Promise.all([gate.run(recorder(fills)), gate.run(recorder(fills))]);
      // The read needs two free grants (one kept in reserve): not before the later fills leave the window.
      const low: number[] = [];
      const read = gate.run(recorder(low), { low: true });
      await pause(50);
      const high: number[] = [];
      await Promise.all([read, gate.run(recorder(high))]);
      // The submission had the first fill's grant as it left, not the read's later turn.
      expect(high[0]! - fills[1]!).toBeLessThan(SMALL.windowMs);
      expect(low[0]! - fills[1]!).toBeGreaterThanOrEqual(SMALL.windowMs);
    }, 20_000);
  });
}

budgetSuite('SQLite, two connections to one file', sqlitePair);
if (skipWithoutPostgres('Shared rate budget on PostgreSQL')) {
  describe.skip('two gates sharing one budget (PostgreSQL)', () => {
    it('needs JOBHOOK_TEST_DATABASE_URL', () => undefined);
  });
} else {
  budgetSuite('PostgreSQL, two instances on one schema', postgresPair);
}

/**
 * A store that goes away while a submission takes from the budget: `goAway` is called on the first POST,
 * which the platform answers 503 so that the next attempt must take from the budget again.
 */
async function submitThroughOutage(store: Store, publicUrl: string, goAway: () => void): Promise<void> {
  let posts = 0;
  const platform = await startFakePlatform((_req, res) => {
    if (++posts === 1) {
      goAway();
      res.writeHead(503).end();
    } else res.writeHead(202, { 'content-type': 'application/json' }).end('{"jobId":"job-after-outage"}');
  });
  cleanups.push(() => platform.close());
  const lines: { msg: string; level: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const jobhook = await createJobhook({
    store,
    publicUrl,
    ringcentral: { server: platform.url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
    retryBaseMs: 100,
    maxSubmitAttempts: 12,
    logger,
  });
  cleanups.push(() => jobhook.close());
  const job = await jobhook.punctuate({ texts: ['through an outage'] });
  expect(job.jobId).toBe('job-after-outage');
  expect(posts).toBe(2); // nothing was sent while the budget could not be read
  const messages = lines.map((l) => l.msg);
  expect(messages.filter((m) => m.startsWith('rate budget unavailable'))).toHaveLength(1);
  expect(messages.filter((m) => m === 'rate budget available again')).toHaveLength(1);
  expect(messages.filter((m) => m === 'submission failed; retrying')).toHaveLength(1); // the 503 alone
}

describe('a store that fails while a submission takes from the budget', () => {
  it('SQLite locked by another process: costs attempts, not a send, logs once, goes through after', async () => {
    const path = tempDbPath();
    const harness = await startHarness(path);
    cleanups.push(() => harness.close());
    const locker = new Database(path);
    cleanups.push(() => locker.close());
    await submitThroughOutage(harness.store, harness.baseUrl, () => {
      locker.exec('BEGIN EXCLUSIVE');
      setTimeout(() => locker.exec('COMMIT'), 700);
    });
  }, 30_000);

  it.skipIf(!process.env.JOBHOOK_TEST_DATABASE_URL)(
    'PostgreSQL stopped for a moment: costs attempts, not a send, logs once, goes through after',
    async () => {
      const fresh = await freshSchema();
      cleanups.push(() => fresh.drop());
      const proxy = await pgProxy();
      cleanups.push(() => proxy.stop());
      const store = await PostgresStore.open({
        connectionString: proxy.url,
        schema: fresh.schema,
        connectTimeoutMs: 500,
        poolSize: 2,
      });
      cleanups.push(() => store.close());
      await submitThroughOutage(store, 'http://127.0.0.1:9', () => {
        void proxy.stop();
        setTimeout(() => void proxy.start(), 700);
      });
    },
    30_000,
  );
});

describe('reconciliation through createJobhook', () => {
  it('waits for what submissions leave, lets a later submission pass, and close() ends its wait unsent', async () => {
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    let jobs = 0;
    const platform = await startFakePlatform((_req, res) =>
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ jobId: `job-${++jobs}` })),
    );
    cleanups.push(() => platform.close());
    const jobhook = await createJobhook({
      store: harness.store,
      publicUrl: harness.baseUrl,
      ringcentral: { server: platform.url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
      // Two per minute, one kept for submissions: after one submission, status reads get nothing.
      rateBudget: { capacity: 2, windowMs: 60_000 },
    });
    let closed = false;
    cleanups.push(() => (closed ? undefined : jobhook.close()));
    await jobhook.punctuate({ texts: ['first'] });
    const pass = jobhook.reconcile({ olderThanMs: 0 });
    await pause(200);
    expect(jobhook.stats.queued).toBe(1); // the status read waits
    const second = await jobhook.punctuate({ texts: ['second'] });
    expect(second.jobId).toBe('job-2');
    const closing = jobhook.close().then(() => 'closed');
    closed = true;
    // Without the gate letting go, close() would wait out the window (a minute) behind the read.
    expect(await Promise.race([closing, pause(10_000).then(() => 'still waiting')])).toBe('closed');
    expect(await pass).toMatchObject({ checked: 0, settled: 0 });
    expect(platform.count('GET /ai/status/v1/jobs/job-1')).toBe(0);
  }, 30_000);
});

describe('a submission whose platform is still logging in', () => {
  it('takes no grant until logged in: another process may use the window meanwhile', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    cleanups.push(() => store.close());
    let posts = 0;
    let asked!: () => void;
    let answered!: () => void;
    const loginAsked = new Promise<void>((resolve) => (asked = resolve));
    const loggedIn = new Promise<void>((resolve) => (answered = resolve));
    const token = JSON.stringify({ access_token: 'a', token_type: 'bearer', expires_in: 3600, refresh_token: 'r' });
    const server = createServer((req, res) => {
      const json = { 'content-type': 'application/json' };
      if (req.url === '/restapi/oauth/revoke') return void res.writeHead(200).end();
      if (req.url !== '/restapi/oauth/token') return void (posts++, res.writeHead(202, json).end('{"jobId":"j"}'));
      asked();
      setTimeout(() => (res.writeHead(200, json).end(token), answered()), 1000); // a slow login
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const limits = { capacity: 1, windowMs: 60_000 };
    const jobhook = await createJobhook({
      store,
      publicUrl: 'http://127.0.0.1:9',
      ringcentral: { server: url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
      rateBudget: { ...limits, key: KEY },
    });
    let closed = false;
    cleanups.push(() => (closed ? undefined : jobhook.close()));
    const submitting = jobhook.punctuate({ texts: ['slow login'] }).catch((e: unknown) => e);
    await loginAsked;
    // The window's only grant is still free: the submission did not take it before its login.
    const other = gateOn(store, {}, limits);
    const sent = other.run(recorder([])).then(() => 'sent');
    expect(await Promise.race([sent, pause(5000).then(() => 'held')])).toBe('sent');
    await loggedIn;
    await pause(200);
    expect(posts).toBe(0); // logged in, the submission waits for the window
    expect(jobhook.stats.queued).toBe(1);
    closed = true;
    await jobhook.close();
    expect(await submitting).toMatchObject({ code: 'JH_ERR_STORE_CLOSED' });
  }, 20_000);
});
