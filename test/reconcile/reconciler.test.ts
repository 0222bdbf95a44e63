import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobhook, type Jobhook } from '../../src/client/jobhook.js';
import { createReconciler } from '../../src/reconcile/reconciler.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { CLI } from '../helpers/cli-process.js';
import { startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { largeSuccessEnvelope, startFakePlatform, type FakePlatform } from '../ringcentral/fake-platform.js';
import { closedPort } from '../helpers/ports.js';

const SIZES = [70_000, 300_000, 2_000_000];

/** The built CLI, run asynchronously: the fake platform answers from this same process. */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * A fake platform that accepts each submit with the next of `jobIds` and answers each status read with
 * `statusOf(jobId)` (a body, or null to never answer).
 */
async function platformFor(jobIds: string[], statusOf: (jobId: string) => Buffer | null): Promise<FakePlatform> {
  let next = 0;
  const platform = await startFakePlatform((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ jobId: jobIds[next++] }));
      return;
    }
    const body = statusOf(decodeURIComponent(req.url!.split('/').at(-1)!));
    if (body) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  cleanups.push(() => platform.close());
  return platform;
}

async function clientOn(
  harness: Harness,
  platform: FakePlatform,
  logger?: pino.Logger,
  timeoutMs = 20_000,
): Promise<Jobhook> {
  const jobhook = await createJobhook({
    store: harness.store,
    publicUrl: harness.baseUrl,
    ringcentral: { server: platform.url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
    platformOptions: { timeoutMs },
    logger,
  });
  cleanups.push(() => jobhook.close());
  return jobhook;
}

async function submitAll(jobhook: Jobhook, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await jobhook.punctuate({ texts: [`text ${i}`] })).requestId);
  return ids;
}

describe('reconciliation of large results', () => {
  it('settles 70 KB, 300 KB and 2 MB results in one pass and stores their exact bytes', async () => {
    const bodies = new Map(SIZES.map((size) => [`job-${size}`, largeSuccessEnvelope(`job-${size}`, size)]));
    const platform = await platformFor([...bodies.keys()], (jobId) => bodies.get(jobId)!);
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    const jobhook = await clientOn(harness, platform);
    const requestIds = await submitAll(jobhook, SIZES.length);
    const report = await jobhook.reconcile({ olderThanMs: 0 });
    expect(report).toMatchObject({ checked: 3, settled: 3, errors: 0 });
    for (const [i, requestId] of requestIds.entries()) {
      const [delivery] = await harness.store.listDeliveries(requestId);
      expect(delivery!.source).toBe('status-poll');
      expect(delivery!.body.equals(bodies.get(`job-${SIZES[i]}`)!)).toBe(true);
      expect((await harness.store.findRequest(requestId))!.state).toBe('succeeded');
    }
  });

  it('checks every due job in a pass when one status read hangs: cut by the timeout, logged, the rest settle', async () => {
    const jobIds = ['job-a', 'job-stuck', 'job-c'];
    const platform = await platformFor(jobIds, (jobId) =>
      jobId === 'job-stuck' ? null : largeSuccessEnvelope(jobId, 100_000),
    );
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const jobhook = await clientOn(harness, platform, pino({ level: 'warn' }, sink), 400);
    const [a, stuck, c] = await submitAll(jobhook, 3);
    const started = Date.now();
    const report = await jobhook.reconcile({ olderThanMs: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(report).toMatchObject({ settled: 2, errors: 1 });
    expect((await harness.store.findRequest(a!))!.state).toBe('succeeded');
    expect((await harness.store.findRequest(c!))!.state).toBe('succeeded');
    expect((await harness.store.findRequest(stuck!))!.state).toBe('pending');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, requestId: stuck, jobId: 'job-stuck', msg: 'status check failed' }),
    );
  });

  it('cuts a read that never settles (a reader without a deadline) so later passes still run', async () => {
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    const { requestId } = await harness.mint({ api: '/ai/text/v1/async/punctuate', requestBody: '{}' });
    await harness.store.updateSubmission(requestId, { state: 'accepted', jobId: 'job-forever' });
    let reads = 0;
    const reconciler = createReconciler({
      store: harness.store,
      readStatus: () => {
        reads++;
        return new Promise(() => undefined);
      },
      readTimeoutMs: 200,
    });
    cleanups.push(() => reconciler.stop());
    expect(await reconciler.runOnce({ olderThanMs: 0 })).toMatchObject({ errors: 1 });
    await harness.store.scheduleCheck(requestId, 0);
    expect(await reconciler.runOnce({ olderThanMs: 0 })).toMatchObject({ errors: 1 });
    expect(reads).toBe(2);
  });
});

describe('stopping reconciliation', () => {
  it('stop() starts no further status read in the pass in progress, and no pass after it', async () => {
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    for (let i = 0; i < 3; i++) {
      const { requestId } = await harness.mint({ api: '/ai/text/v1/async/punctuate', requestBody: '{}' });
      await harness.store.updateSubmission(requestId, { state: 'accepted', jobId: `job-stop-${i}` });
    }
    const reads: string[] = [];
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const reconciler = createReconciler({
      store: harness.store,
      firstCheckAfterMs: 0,
      readStatus: async (path) => {
        reads.push(path);
        if (reads.length === 1) await held; // the first read is in flight when stop() comes
        return { status: 503, headers: new Headers(), body: Buffer.alloc(0), text: '' };
      },
    });
    reconciler.start(10);
    await waitFor(() => reads.length === 1);
    const stopped = reconciler.stop();
    answer(); // the read in flight ends; before, the pass went on to read the two others
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 200)); // twenty intervals: no pass starts
    expect(reads).toHaveLength(1);
  });
});

describe('jobhook reconcile (CLI) against a platform with large results', () => {
  it('settles each large pending job and says so (it printed nothing and exited 0)', async () => {
    const bodies = new Map(SIZES.map((size) => [`job-${size}`, largeSuccessEnvelope(`job-${size}`, size)]));
    const platform = await platformFor([...bodies.keys()], (jobId) => bodies.get(jobId)!);
    const dbPath = tempDbPath();
    const harness = await startHarness(dbPath);
    const jobhook = await createJobhook({
      store: harness.store,
      publicUrl: harness.baseUrl,
      ringcentral: { server: platform.url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
    });
    const requestIds = await submitAll(jobhook, SIZES.length);
    await jobhook.close();
    await harness.close();
    const result = await runCli(['reconcile', '--older-than', '0', '--db', dbPath, '--json'], {
      RC_SERVER_URL: platform.url,
      RC_CLIENT_ID: 'id',
      RC_CLIENT_SECRET: 'secret',
      RC_JWT: 'a.b.c',
    });
    expect(result.stderr).not.toMatch(/unexpected error/);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ checked: 3, settled: 3, errors: 0 });
    const store = new SqliteStore({ path: dbPath });
    try {
      for (const requestId of requestIds) expect((await store.findRequest(requestId))!.state).toBe('succeeded');
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable platform clearly, without a stack trace', async () => {
    const dbPath = tempDbPath();
    const harness = await startHarness(dbPath);
    const { requestId } = await harness.mint({ api: '/ai/text/v1/async/punctuate', requestBody: '{}' });
    await harness.store.updateSubmission(requestId, { state: 'accepted', jobId: 'job-1' });
    await harness.close();
    const port = await closedPort();
    const result = await runCli(['reconcile', '--older-than', '0', '--db', dbPath], {
      RC_SERVER_URL: `http://127.0.0.1:${port}`,
      RC_CLIENT_ID: 'id',
      RC_CLIENT_SECRET: 'secret',
      RC_JWT: 'a.b.c',
    });
    expect(result.stderr).toMatch(
      new RegExp(
        `^jobhook: cannot reach the RingCentral platform at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; check RC_SERVER_URL and the network \\[JH_ERR_PLATFORM_UNREACHABLE\\]$`,
        'm',
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.status).toBe(6); // platform unreachable (src/cli/exit-codes.ts)
  });
});

describe('a pass right after submitting', () => {
  it('reports the jobs it skipped as not due yet, and when the first is due', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    cleanups.push(() => store.close());
    const createdAtMs = Date.now();
    await store.createRequest({ requestId: 'r-young', kind: 'job', callbackUrl: 'http://x/y', createdAtMs });
    await store.updateSubmission('r-young', { state: 'accepted', jobId: 'job-young' });
    let reads = 0;
    const reconciler = createReconciler({
      store,
      readStatus: () => {
        reads++;
        return Promise.reject(new Error('not expected'));
      },
    });
    const report = await reconciler.runOnce();
    expect(report).toMatchObject({ checked: 0, notYetDue: 1 });
    expect(Date.parse(report.nextDueAt!)).toBe(createdAtMs + 5 * 60_000);
    expect(reads).toBe(0);
    // With --older-than 0 it is checked at once (here the read fails, so its next look is scheduled).
    const now = await reconciler.runOnce({ olderThanMs: 0 });
    expect(now).toMatchObject({ checked: 0, errors: 1, notYetDue: 1 });
    expect(reads).toBe(1);
  });
});

describe('a fleet instance that runs for weeks', () => {
  it("marks each pass the submissions left in flight by a process that stopped, never a live one's", async () => {
    // Found by review (issue #11): only a client's start marked them, so a long-running serve never did.
    const path = tempDbPath();
    const store = new SqliteStore({ path });
    const live = new SqliteStore({ path });
    const gone = new SqliteStore({ path });
    const ids = { live: '01a21a00-0000-7000-8000-000000000001', gone: '01a21a00-0000-7000-8000-000000000002' };
    for (const [owner, requestId] of [
      [live, ids.live],
      [gone, ids.gone],
    ] as const) {
      await owner.createRequest({ requestId, kind: 'job', callbackUrl: 'http://x/' });
      await owner.updateSubmission(requestId, { state: 'submitting' });
    }
    await gone.close();
    const reconciler = createReconciler({
      store,
      readStatus: () => Promise.reject(new Error('no job is due: nothing is read')),
    });
    await reconciler.runOnce();
    expect((await store.findRequest(ids.gone))?.submitState).toBe('unknown');
    expect((await store.findRequest(ids.live))?.submitState).toBe('submitting');
    await reconciler.stop();
    await Promise.all([store.close(), live.close()]);
  });
});
