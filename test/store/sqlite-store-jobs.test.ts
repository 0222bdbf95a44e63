import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { parseEnvelope } from '../../src/ringcentral/envelope.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

async function minted(store: SqliteStore, createdAtMs = Date.now()): Promise<string> {
  const requestId = newRequestId(createdAtMs);
  await store.createRequest({ requestId, kind: 'job', callbackUrl: `http://x/webhooks/${requestId}/t`, createdAtMs });
  return requestId;
}

describe('SqliteStore: submissions, reconciliation and settlement events', () => {
  it('tracks submission states, keeping a jobId learned from an early webhook', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const a = await minted(store);
    await store.updateSubmission(a, { state: 'submitting' });
    await store.updateSubmission(a, { state: 'accepted', jobId: 'job-a' });
    expect(await store.findRequest('job-a')).toMatchObject({ requestId: a, submitState: 'accepted' });
    const b = await minted(store);
    await store.updateSubmission(b, { state: 'rejected', error: 'CAI-101: contentUri' });
    expect(await store.findRequest(b)).toMatchObject({
      submitState: 'rejected',
      submitError: 'CAI-101: contentUri',
      jobId: null,
    });
    const c = await minted(store);
    await store.updateSubmission(c, { state: 'submitting' });
    expect(await store.markInterruptedSubmissions()).toEqual([c]);
    expect(await store.findRequest(c)).toMatchObject({ submitState: 'unknown' });
    await store.close();
  });

  it('lists requests due for a status check, and reschedules them', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const now = Date.now();
    const old = await minted(store, now - 10 * 60_000);
    const fresh = await minted(store, now);
    const noJob = await minted(store, now - 10 * 60_000);
    await store.updateSubmission(old, { state: 'accepted', jobId: 'job-old' });
    await store.updateSubmission(fresh, { state: 'accepted', jobId: 'job-fresh' });
    expect((await store.listDueForCheck(now, 5 * 60_000, 10)).map((r) => r.requestId)).toEqual([old]);
    // A request without a jobId (never accepted) is never due: there is nothing to read back.
    expect((await store.listDueForCheck(now, 0, 10)).map((r) => r.requestId)).toEqual([old, fresh]);
    expect((await store.listDueForCheck(now, 0, 10)).map((r) => r.requestId)).not.toContain(noJob);
    await store.scheduleCheck(old, now + 60_000);
    expect(await store.listDueForCheck(now, 5 * 60_000, 10)).toEqual([]);
    expect(await store.findRequest(old)).toMatchObject({
      checkCount: 1,
      nextCheckAt: new Date(now + 60_000).toISOString(),
    });
    await store.close();
  });

  it('expires a pending request once, with an event', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const events: RequestSettledEvent[] = [];
    store.onSettled((e) => events.push(e));
    const id = await minted(store);
    expect(await store.markExpired(id)).toBe(true);
    expect(await store.markExpired(id)).toBe(false);
    expect(await store.findRequest(id)).toMatchObject({ state: 'expired' });
    expect(events).toEqual([{ requestId: id, jobId: null, api: null, state: 'expired', deliveryId: null }]);
    await store.close();
  });

  it('wakes a listener in one process for a request settled through another connection', async () => {
    const path = tempDbPath();
    const waiting = new SqliteStore({ path, watchIntervalMs: 20 });
    const receiving = new SqliteStore({ path });
    const id = await minted(waiting);
    const events: RequestSettledEvent[] = [];
    waiting.onSettled((e) => events.push(e));
    const [delivery] = await receiving.recordDeliveries([
      {
        requestId: id,
        source: 'webhook',
        body: Buffer.from(JSON.stringify(sttEnvelope('job-x'))),
        rawHeaders: [],
        receivedAtMs: Date.now(),
      },
    ]);
    await receiving.indexDeliveries(parseEnvelope);
    await waitFor(() => events.length > 0, 2000);
    expect(events).toEqual([
      {
        requestId: id,
        jobId: 'job-x',
        api: '/ai/audio/v1/async/speech-to-text',
        state: 'succeeded',
        deliveryId: delivery!.deliveryId,
      },
    ]);
    expect((await waiting.getDelivery(delivery!.deliveryId))!.body.toString()).toContain('job-x');
    await waiting.close();
    await receiving.close();
  });
});
