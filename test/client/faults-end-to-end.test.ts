import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobhook } from '../../src/client/jobhook.js';
import { createEmulator } from '../../src/emulator/server.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startHarness, waitFor } from '../helpers/receiver-harness.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

let loop: Loop | undefined;
afterEach(async () => {
  await loop?.close();
  loop = undefined;
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the loop under faults', () => {
  it('resolves 500 jobs exactly once with 30 % of deliveries dropped and 20 % duplicated', async () => {
    loop = await startLoop(
      tempDbPath(),
      { dropRate: 0.3, duplicateRate: 0.2, seed: 'faults-500' },
      { maxInFlight: 8, handlers: { pollMs: 50, backoffMs: 20 } },
    );
    const { jobhook, harness } = loop;
    // An idempotent handler: its effect is keyed by request ID, so running again changes nothing.
    const effects = new Map<string, string>();
    let calls = 0;
    await jobhook.on('punctuate', (input) => {
      calls++;
      effects.set(input.requestId, (input.response as { texts: string[] }).texts[0]!);
    });
    const jobs = await Promise.all(
      Array.from({ length: 500 }, (_, i) => jobhook.punctuate({ texts: [`message number ${i}`] })),
    );
    const settledOnce = new Map<string, number>();
    harness.store.onSettled((e) => settledOnce.set(e.requestId, (settledOnce.get(e.requestId) ?? 0) + 1));
    const results = Promise.all(jobs.map((job) => job.result({ timeoutMs: 30_000 })));
    // Let the webhooks arrive, then recover the dropped ones through the status endpoint.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await jobhook.reconcile({ olderThanMs: 0 });
    const texts = await results;
    expect(texts.map((t) => t.texts[0])).toEqual(jobs.map((_, i) => `Message number ${i}.`));
    expect(report.settled).toBeGreaterThan(100); // about 30 % came only through reconciliation
    expect([...settledOnce.values()].every((n) => n === 1)).toBe(true);
    const requests = await harness.store.listRequests({ limit: 1000 });
    expect(requests.filter((r) => r.state === 'succeeded')).toHaveLength(500);
    const receipts = requests.reduce((n, r) => n + r.deliveryCount, 0);
    await waitFor(() => effects.size === 500, 20_000);
    expect([...effects.values()].sort()).toEqual(jobs.map((_, i) => `Message number ${i}.`).sort());
    expect(calls).toBeGreaterThanOrEqual(500);
    console.log(`faults-500: ${report.settled} settled by reconciliation, ${receipts} receipts for 500 jobs`);
  });

  it('resolves job(requestId).result() after the receiver was stopped and restarted', async () => {
    const dbPath = tempDbPath();
    const port = await freePort();
    const emulator = createEmulator({
      latency: { minMs: 200, maxMs: 200 },
      redelivery: { retries: 10, backoffMs: 100, attemptTimeoutMs: 1000 },
    });
    const emulatorUrl = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
    const ringcentral = { server: emulatorUrl, clientId: 'c', clientSecret: 's', jwt: fakeJwt() };
    try {
      const first = await startHarness(dbPath, {}, port);
      const client = await createJobhook({ store: first.store, publicUrl: first.baseUrl, ringcentral });
      const job = await client.punctuate({ texts: ['we survived the restart'] });
      await client.close();
      await first.close(); // the receiver goes down before the result is ready

      await new Promise((resolve) => setTimeout(resolve, 400)); // deliveries fail meanwhile
      const second = await startHarness(dbPath, {}, port);
      const store = new SqliteStore({ path: dbPath });
      const restarted = await createJobhook({ store, publicUrl: second.baseUrl, ringcentral });
      try {
        const handle = await restarted.job<{ texts: string[] }>(job.requestId);
        expect(handle.jobId).toBe(job.jobId);
        expect(await handle.result({ timeoutMs: 10_000 })).toEqual({ texts: ['We survived the restart.'] });
      } finally {
        await restarted.close();
        await store.close();
        await second.close();
      }
    } finally {
      await emulator.close();
    }
  });

  it('finishes every submission under a rate limit, waiting as the headers say', async () => {
    loop = await startLoop(tempDbPath(), { rateLimit: { limit: 5, windowMs: 1000, penaltyMs: 1000 } });
    let limited = 0;
    const started = Date.now();
    const jobs = await Promise.all(
      Array.from({ length: 20 }, () => loop!.jobhook.punctuate({ texts: ['rate limited'] })),
    );
    const emulatorJobs = (await (await fetch(`${loop.emulatorUrl}/_emulator/jobs`)).json()) as { jobs: unknown[] };
    expect(jobs).toHaveLength(20);
    expect(emulatorJobs.jobs).toHaveLength(20); // nothing submitted twice
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500); // 20 at 5 per second
    limited = (await loop.harness.store.listRequests({ limit: 100 })).filter(
      (r) => r.submitState !== 'accepted',
    ).length;
    expect(limited).toBe(0);
  });
});
