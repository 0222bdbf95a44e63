import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerInput } from '../../src/client/handler-runner.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

let loop: Loop;
afterEach(async () => {
  await loop.close();
});

const fast = { handlers: { backoffMs: 20, pollMs: 20, leaseMs: 200, maxAttempts: 4 } };

describe('result handlers', () => {
  it('retries a failing handler with backoff and dead-letters one that always fails; retry revives it', async () => {
    loop = await startLoop(tempDbPath(), {}, fast);
    const { jobhook, harness } = loop;
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
      const list = await harness.store.listHandlerRuns(job.requestId);
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
    expect((await harness.store.listHandlerRuns(job.requestId)).find((r) => r.handler === 'broken')).toMatchObject({
      state: 'dead',
      attempts: 4,
    });
  });

  it('reruns a handler whose process stopped mid-run, once its lease expires', async () => {
    loop = await startLoop(tempDbPath(), {}, fast);
    const { jobhook, harness } = loop;
    const job = await jobhook.punctuate({ texts: ['crash test'] });
    await job.result();
    // Another process registered the handler, claimed the run and died without finishing it.
    await harness.store.registerHandler('archive');
    const claimed = await harness.store.claimHandlerRuns('archive', null, Date.now(), 150, 10);
    expect(claimed.map((r) => r.requestId)).toEqual([]); // settled before registration: not owed
    const later = await jobhook.punctuate({ texts: ['after registration'] });
    await later.result();
    const [orphan] = await harness.store.claimHandlerRuns('archive', null, Date.now(), 150, 10);
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
