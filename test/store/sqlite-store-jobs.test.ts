import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
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
    const path = tempDbPath();
    const store = new SqliteStore({ path });
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
    // Its own live submission is never interrupted; once this store is gone, the next one marks it.
    expect(await store.markInterruptedSubmissions()).toEqual([]);
    await store.close();
    const next = new SqliteStore({ path });
    expect(await next.markInterruptedSubmissions()).toEqual([c]);
    expect(await next.findRequest(c)).toMatchObject({ submitState: 'unknown' });
    await next.close();
  });

  it('lists requests due for a status check, and reschedules them', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const now = Date.now();
    const old = await minted(store, now - 10 * 60_000);
    const fresh = await minted(store, now);
    const noJob = await minted(store, now - 10 * 60_000);
    await store.updateSubmission(old, { state: 'accepted', jobId: 'job-old' });
    await store.updateSubmission(fresh, { state: 'accepted', jobId: 'job-fresh' });
    expect((await store.claimDueChecks(5 * 60_000, 60_000, 10)).map((r) => r.requestId)).toEqual([old]);
    // A request without a jobId (never accepted) is never due: there is nothing to read back.
    expect((await store.claimDueChecks(0, 60_000, 10)).map((r) => r.requestId)).toEqual([fresh]);
    expect(await store.claimDueChecks(0, 60_000, 10)).toEqual([]);
    expect(await store.scheduleCheck(noJob, 0)).toBe(true); // pending, so schedulable; still never due
    expect(await store.claimDueChecks(0, 60_000, 10)).toEqual([]);
    expect(await store.scheduleCheck(old, 60_000)).toBe(true);
    const record = await store.findRequest(old);
    expect(record).toMatchObject({ checkCount: 1 });
    expect(Date.parse(record!.nextCheckAt!)).toBeGreaterThanOrEqual(now + 60_000);
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
    await receiving.indexDeliveries(deliveryRules);
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
