import { afterEach, describe, expect, it, vi } from 'vitest';
import { HandlerRunner, type HandlerInput } from '../../src/handlers/handler-runner.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

let loop: Loop | undefined;
let harness: Harness | undefined;
const runners: HandlerRunner[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const runner of runners.splice(0)) await runner.stop({ graceMs: 0 });
  await loop?.close();
  await harness?.close();
  loop = harness = undefined;
});

function runner(h: Harness, options: Partial<ConstructorParameters<typeof HandlerRunner>[0]> = {}): HandlerRunner {
  const made = new HandlerRunner({ store: h.store, backoffMs: 20, pollMs: 20, ...options });
  runners.push(made);
  return made;
}

/** Mints a request and settles it with a webhook carrying `envelope`; returns its request ID. */
async function settle(h: Harness, envelope: Record<string, unknown>): Promise<string> {
  const { requestId, callbackUrl } = await h.mint({ api: '/ai/audio/v1/async/speech-to-text' });
  expect(await post(callbackUrl, JSON.stringify(envelope))).toBe(200);
  await waitFor(async () => (await h.store.findRequest(requestId))?.state === 'succeeded');
  return requestId;
}

const fast = { handlers: { backoffMs: 20, pollMs: 20, leaseMs: 200, maxAttempts: 4 } };

describe('result handlers', () => {
  it('retries a failing handler with backoff and dead-letters one that always fails; retry revives it', async () => {
    loop = await startLoop(tempDbPath(), {}, fast);
    const { jobhook, harness: h } = loop;
    const attempts: number[] = [];
    await jobhook.on(
      'punctuate',
      (input) => {
        attempts.push(input.attempt);
        if (input.attempt < 3) throw new Error(`flaky ${input.attempt}`);
      },
      { name: 'flaky' },
    );
    let broken = 0;
    await jobhook.on(
      '*',
      () => {
        broken++;
        throw new Error('always broken');
      },
      { name: 'broken' },
    );

    const job = await jobhook.punctuate({ texts: ['handle me'] });
    await job.result();
    const runs = await waitFor(async () => {
      const list = await h.store.listHandlerRuns(job.requestId);
      return list.length === 2 && list.every((r) => r.state === 'succeeded' || r.state === 'dead') && list;
    });
    expect(attempts).toEqual([1, 2, 3]);
    expect(runs).toEqual([
      expect.objectContaining({ handler: 'broken', state: 'dead', attempts: 4, lastError: 'always broken' }),
      expect.objectContaining({ handler: 'flaky', state: 'succeeded', attempts: 3, lastError: null }),
    ]);
    expect(broken).toBe(4);

    expect(await jobhook.retry(job.jobId!)).toBe(1);
    await waitFor(async () => broken === 8);
    expect((await h.store.listHandlerRuns(job.requestId)).find((r) => r.handler === 'broken')).toMatchObject({
      state: 'dead',
      attempts: 4,
    });
  });

  it('reruns a handler whose process stopped mid-run, once its lease expires', async () => {
    loop = await startLoop(tempDbPath(), {}, fast);
    const { jobhook, harness: h } = loop;
    const job = await jobhook.punctuate({ texts: ['crash test'] });
    await job.result();
    // Another process registered the handler, claimed the run and died without finishing it.
    await h.store.registerHandler('archive', null);
    const claimed = await h.store.claimHandlerRuns('archive', 150, 10);
    expect(claimed.map((r) => r.requestId)).toEqual([]); // settled before registration: not owed
    const later = await jobhook.punctuate({ texts: ['after registration'] });
    await later.result();
    const [orphan] = await h.store.claimHandlerRuns('archive', 150, 10);
    expect(orphan).toMatchObject({ requestId: later.requestId, state: 'running', attempts: 1 });

    const seen: HandlerInput[] = [];
    await jobhook.on('*', (input) => void seen.push(input), { name: 'archive' });
    await waitFor(() => seen.length === 1, 3000);
    expect(seen[0]).toMatchObject({
      requestId: later.requestId,
      status: 'Success',
      attempt: 2,
      response: { texts: ['After registration.'] },
    });
  });
});

describe('handler runner: concurrency, stop, lazy envelope', () => {
  it('parses the envelope only when a handler reads it, and then once', async () => {
    harness = await startHarness(tempDbPath());
    await harness.store.registerHandler('bytes-only', null); // owed every result settled from here on
    await harness.store.registerHandler('reader', null);
    const big = sttEnvelope('job-big');
    (big.response as Record<string, unknown>).transcript = 'word '.repeat(800_000); // 4 MB of JSON
    const requestId = await settle(harness, big);

    const parse = vi.spyOn(JSON, 'parse');
    const largeParses = (): number => parse.mock.calls.filter(([text]) => text.length > 1_000_000).length;
    const passedOn: number[] = [];
    const a = runner(harness);
    await a.register('bytes-only', null, (input) => void passedOn.push(input.body.length));
    await waitFor(async () => (await harness!.store.listHandlerRuns(requestId))[0]?.state === 'succeeded');
    expect(passedOn).toEqual([expect.any(Number)]);
    expect(passedOn[0]).toBeGreaterThan(4_000_000);
    expect(largeParses()).toBe(0); // before, every run parsed the whole body first

    const seen: unknown[] = [];
    const b = runner(harness);
    await b.register('reader', null, (input) => {
      seen.push(input.envelope.jobId, (input.response as { transcript: string }).transcript.length, input.envelope);
    });
    await waitFor(() => seen.length === 3);
    expect(seen.slice(0, 2)).toEqual(['job-big', 4_000_000]);
    expect(largeParses()).toBe(1);
  });

  it('runs due results side by side: one hanging handler delays only itself', async () => {
    harness = await startHarness(tempDbPath());
    const hung: string[] = [];
    const done: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const r = runner(harness, { concurrency: 4 });
    await r.register('mixed', null, async (input) => {
      if (hung.length === 0) {
        hung.push(input.requestId);
        await held;
      } else done.push(input.requestId);
    });
    try {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await settle(harness, sttEnvelope(`job-${i}`)));
      // Serially, the four others waited behind the held one for as long as it was held.
      await waitFor(() => done.length === 4, 5000);
      expect([...hung, ...done].sort()).toEqual([...ids].sort());
    } finally {
      release();
    }
  });

  it('never runs one result twice at once, even when its lease runs out mid-run', async () => {
    harness = await startHarness(tempDbPath());
    let running = 0;
    let most = 0;
    let calls = 0;
    const r = runner(harness, { leaseMs: 50 });
    await r.register('slow', null, async () => {
      calls++;
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 600)); // many leases and polls long
      running--;
    });
    const requestId = await settle(harness, sttEnvelope('job-slow'));
    await waitFor(async () => (await harness!.store.listHandlerRuns(requestId))[0]?.state === 'succeeded');
    expect({ calls, most }).toEqual({ calls: 1, most: 1 });
  });

  it('stop() gives up on a hanging handler after graceMs, and its lease hands the run to the next runner', async () => {
    harness = await startHarness(tempDbPath());
    const first = runner(harness, { leaseMs: 1500 });
    const started: HandlerInput[] = [];
    await first.register('stuck', null, (input) => {
      started.push(input);
      return new Promise(() => undefined); // ignores its signal too: never settles
    });
    const requestId = await settle(harness, sttEnvelope('job-stuck'));
    await waitFor(() => started.length === 1);

    const t0 = Date.now();
    const abandoned = await first.stop({ graceMs: 300 });
    const tookMs = Date.now() - t0;
    console.log(`stop({ graceMs: 300 }) with a hanging handler returned after ${tookMs} ms`);
    expect(tookMs).toBeLessThan(3000); // before, it waited for the handler for ever
    expect(abandoned).toEqual([{ handler: 'stuck', requestId, attempt: 1 }]);
    expect(started[0]!.signal.aborted).toBe(true);
    expect((await harness.store.listHandlerRuns(requestId))[0]).toMatchObject({ state: 'running', attempts: 1 });
    expect(first.inFlight).toBe(1); // abandoned, not completed
    first.kick(); // a stopped runner starts nothing
    await settle(harness, sttEnvelope('job-after-stop'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(started.map((input) => input.requestId)).toEqual([requestId]);

    const seen: HandlerInput[] = [];
    const next = runner(harness);
    await next.register('stuck', null, (input) => void seen.push(input));
    await waitFor(() => seen.some((input) => input.requestId === requestId), 5000);
    expect(seen.find((input) => input.requestId === requestId)).toMatchObject({ attempt: 2 });
  });
});

describe('handler runner: a run created under an earlier registration of the handler', () => {
  it('is dead-lettered with the reason when the handler is now registered for another api, never marked done', async () => {
    // Found by review (issue #11): the run was completed as succeeded without calling anything.
    harness = await startHarness(tempDbPath());
    await harness.store.registerHandler('notify', null);
    const requestId = await settle(harness, sttEnvelope('job-earlier'));
    const seen: HandlerInput[] = [];
    const runner = new HandlerRunner({ store: harness.store, pollMs: 20 });
    await runner.register('notify', '/ai/text/v1/async/punctuate', (input) => void seen.push(input));
    await waitFor(async () => (await harness!.store.listHandlerRuns(requestId))[0]?.state === 'dead', 3000);
    expect(seen).toEqual([]);
    expect((await harness.store.listHandlerRuns(requestId))[0]!.lastError).toMatch(
      /now registered for \/ai\/text\/v1\/async\/punctuate.*speech-to-text/,
    );
    await runner.stop();
  });
});
