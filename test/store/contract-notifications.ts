import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import type { Store } from '../../src/store/store.js';
import type { InsightsKey, SubscriptionInput } from '../../src/types.js';
import type { ContractContext, StoreUnderTest } from './contract.js';
import { receipt, recordingParser, sleep } from './contract-helpers.js';

const ACE_PBX = '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights';

/** A subscription request, as `mint({kind: 'subscription'})` leaves it. */
async function subscriptionRequest(store: Store): Promise<string> {
  const requestId = newRequestId();
  await store.createRequest({
    requestId,
    kind: 'subscription',
    callbackUrl: `http://127.0.0.1/webhooks/${requestId}/t`,
  });
  return requestId;
}

/** An ACE insights notification (the envelope of reference §10 around a §11.3 body). */
function aceEvent(
  sourceRecordId: string,
  lastModifiedTime: string,
  more: { uuid?: string; summary?: string; event?: string } = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      uuid: more.uuid ?? randomUUID(),
      event: more.event ?? '/ai/ringsense/v1/public/accounts/37439510/domains/pbx/insights',
      timestamp: new Date().toISOString(),
      subscriptionId: 'sub-1',
      ownerId: '62264425',
      body: {
        domain: 'pbx',
        sourceRecordId,
        sourceSessionId: `s-${sourceRecordId}`,
        title: 'Call from A to B',
        lastModifiedTime,
        speakerInfo: [],
        insights: { Summary: [{ value: more.summary ?? 'first', start: 0, end: 1 }] },
      },
    }),
  );
}

const sub = (name: string, requestId: string, more: Partial<SubscriptionInput> = {}): SubscriptionInput => ({
  name,
  requestId,
  eventFilters: [ACE_PBX],
  expiresIn: 315_360_000,
  platformId: null,
  address: null,
  status: 'Pending',
  expiresAt: null,
  disabledFilters: [],
  blacklistedData: null,
  lastError: null,
  checkedAt: null,
  ...more,
});

/** The contract of subscriptions, leases, push events (by uuid) and ACE insight records (newest wins). */
export function describeNotificationsContract(ctx: ContractContext): void {
  let t: StoreUnderTest;
  let store: Store;
  const { rules } = recordingParser();
  const index = async (s: Store = store): Promise<void> => {
    for (let pass; !pass || pass.examined > 0;) pass = await s.indexDeliveries(rules);
  };
  beforeEach(() => {
    t = ctx.t;
    store = t.store;
  });

  describe('subscriptions and leases', () => {
    it('saves, finds by name or platform id, lists, replaces and removes subscriptions', async () => {
      const requestId = await subscriptionRequest(store);
      const saved = await store.saveSubscription(sub('ace', requestId));
      expect(saved).toMatchObject({ name: 'ace', requestId, status: 'Pending', platformId: null, lastEventAt: null });
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const blacklisted = { reason: 'Webhook responses with code: [404]', blacklistedAt: '2026-11-26T10:00:00Z' };
      await store.saveSubscription(
        sub('ace', requestId, { platformId: 'p-1', status: 'Blacklisted', expiresAt, blacklistedData: blacklisted }),
      );
      const other = await t.second();
      expect(await other.findSubscription('p-1')).toMatchObject({
        name: 'ace',
        status: 'Blacklisted',
        expiresAt,
        blacklistedData: blacklisted,
        createdAt: saved.createdAt,
      });
      await store.saveSubscription(sub('presence', requestId, { eventFilters: ['/restapi/v1.0/account/~/presence'] }));
      expect((await other.listSubscriptions()).map((s) => s.name)).toEqual(['ace', 'presence']);
      expect(await store.removeSubscription('ace')).toBe(true);
      expect(await store.removeSubscription('ace')).toBe(false);
      expect(await store.findSubscription('p-1')).toBeUndefined();
    });

    it('a lease is held by one owner until it expires or is released', async () => {
      const other = await t.second();
      expect(await store.holdLease('keeper', 300)).toBe(true);
      expect(await other.holdLease('keeper', 300)).toBe(false);
      expect(await store.holdLease('keeper', 300)).toBe(true); // extended by its owner
      await sleep(400);
      expect(await other.holdLease('keeper', 10_000)).toBe(true); // expired: taken over
      expect(await store.holdLease('keeper', 300)).toBe(false);
      await store.releaseLease('keeper'); // not ours: nothing changes
      expect(await store.holdLease('keeper', 300)).toBe(false);
      await other.releaseLease('keeper');
      expect(await store.holdLease('keeper', 300)).toBe(true);
    });
  });

  describe('push events and insight records', () => {
    it('stores an event once by its uuid, even when a re-delivery differs in bytes, and links it to the subscription', async () => {
      const requestId = await subscriptionRequest(store);
      await store.saveSubscription(sub('ace', requestId));
      const uuid = randomUUID();
      const first = aceEvent('rec-1', '2026-11-26T10:00:00Z', { uuid });
      const sameEventOtherBytes = Buffer.from(JSON.stringify(JSON.parse(first.toString())) + '\n');
      const [d1] = await store.recordDeliveries([receipt(requestId, first)]);
      await store.recordDeliveries([receipt(requestId, first), receipt(requestId, sameEventOtherBytes)]);
      await index();
      const events = await store.listEvents({ requestId });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ uuid, deliveryId: d1!.deliveryId, subscriptionId: 'sub-1' });
      const deliveries = await store.listDeliveries(requestId);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]!.count).toBe(3);
      expect((await store.findSubscription('ace'))!.lastEventAt).not.toBeNull();
    });

    it('keeps one insight record per (domain, sourceRecordId): the newest lastModifiedTime wins, in any order', async () => {
      const requestId = await subscriptionRequest(store);
      const key: InsightsKey = { domain: 'pbx', sourceRecordId: 'rec-2' };
      const newer = aceEvent('rec-2', '2026-11-26T10:05:00Z', { summary: 'second' });
      const older = aceEvent('rec-2', '2026-11-26T10:00:00Z', { summary: 'first' });
      const [n] = await store.recordDeliveries([receipt(requestId, newer)]);
      await index();
      await store.recordDeliveries([receipt(requestId, older)]);
      await index();
      const record = await (await t.second()).findInsights(key);
      expect(record).toMatchObject({ ...key, deliveryId: n!.deliveryId, versions: 1, source: 'webhook' });
      expect(record!.lastModifiedTime).toBe('2026-11-26T10:05:00Z');
      const latest = aceEvent('rec-2', '2026-11-26T10:09:00Z', { summary: 'third' });
      const [l] = await store.recordDeliveries([receipt(requestId, latest)]);
      await index();
      expect(await store.findInsights(key)).toMatchObject({ deliveryId: l!.deliveryId, versions: 2 });
      expect((await store.listEvents({ requestId })).length).toBe(3);
      expect((await store.listEvents({ record: key })).map((e) => e.insights)).toEqual([key, key, key]);
      expect(await store.listEvents({ record: { domain: 'pbx', sourceRecordId: 'other' } })).toEqual([]);
      expect((await store.listInsights({ domain: 'pbx' })).map((r) => r.sourceRecordId)).toEqual(['rec-2']);
      expect(await store.listInsights({ domain: 'rcx' })).toEqual([]);
    });

    it('takes insights read back through REST (no envelope) as versions of the same record', async () => {
      const requestId = await subscriptionRequest(store);
      const rest = (JSON.parse(aceEvent('rec-3', '2026-11-26T11:00:00Z').toString()) as { body: object }).body;
      const [d] = await store.recordDeliveries([
        receipt(requestId, Buffer.from(JSON.stringify(rest)), Date.now(), { source: 'status-poll' }),
      ]);
      await index();
      expect(await store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-3' })).toMatchObject({
        deliveryId: d!.deliveryId,
        source: 'status-poll',
      });
      expect(await store.listEvents({ requestId })).toEqual([]);
    });

    it('creates one run per event and per new insights version for the handlers whose topic takes it', async () => {
      const requestId = await subscriptionRequest(store);
      await store.registerHandler('all-events', 'event:*');
      await store.registerHandler('ace-events', `event:${ACE_PBX}`);
      await store.registerHandler('presence', 'event:/restapi/v1.0/account/~/extension/~/presence');
      await store.registerHandler('pbx-insights', 'insights:pbx');
      await store.registerHandler('rcx-insights', 'insights:rcx');
      await store.registerHandler('jobs', null);
      await store.recordDeliveries([
        receipt(requestId, aceEvent('rec-4', '2026-11-26T10:00:00Z')),
        receipt(requestId, aceEvent('rec-4', '2026-11-26T09:00:00Z')), // older: an event, no new version
        receipt(requestId, aceEvent('rec-4', '2026-11-26T10:30:00Z')),
      ]);
      await index();
      const runs = await store.listHandlerRuns(requestId);
      const count = (handler: string): number => runs.filter((r) => r.handler === handler).length;
      expect(count('all-events')).toBe(3);
      expect(count('ace-events')).toBe(3);
      expect(count('presence')).toBe(0);
      expect(count('pbx-insights')).toBe(2);
      expect(count('rcx-insights')).toBe(0);
      expect(count('jobs')).toBe(0);
      const claimed = await (await t.second()).claimHandlerRuns('pbx-insights', 60_000, 10);
      expect(claimed.map((r) => r.eventKey).sort()).toEqual([
        `insights:pbx:rec-4:${Date.parse('2026-11-26T10:00:00Z')}`,
        `insights:pbx:rec-4:${Date.parse('2026-11-26T10:30:00Z')}`,
      ]);
    });

    it('hints a new insights version to listeners of every process', async () => {
      const requestId = await subscriptionRequest(store);
      const other = await t.second();
      const seen: InsightsKey[] = [];
      const stop = other.onInsights((key) => seen.push(key));
      try {
        await sleep(50);
        await store.recordDeliveries([receipt(requestId, aceEvent('rec-5', '2026-11-26T10:00:00Z'))]);
        await index();
        for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
        expect(seen).toEqual([{ domain: 'pbx', sourceRecordId: 'rec-5' }]);
      } finally {
        stop();
      }
    });

    it('never stalls on a NUL in any string or an id too long to hint: later receipts are indexed (PostgreSQL found it)', async () => {
      const requestId = await subscriptionRequest(store);
      const nul = JSON.parse(aceEvent('rec-n\u0000ul', '2026-11-26T10:00:00Z').toString()) as {
        body: Record<string, unknown>;
      };
      const titled = JSON.parse(aceEvent('rec-title', '2026-11-26T10:00:00Z').toString()) as {
        body: Record<string, unknown>;
      };
      titled.body.title = 'Call from \u0000 to B';
      const long = aceEvent('x'.repeat(9000), '2026-11-26T10:00:00Z');
      // A body whose JSON error message quotes a NUL (V8 does), on a subscription and on a job URL.
      const broken = Buffer.from('{"a":\u0000}');
      const job = newRequestId();
      await store.createRequest({ requestId: job, kind: 'job', callbackUrl: `http://127.0.0.1/webhooks/${job}/t` });
      await store.recordDeliveries([
        receipt(requestId, Buffer.from(JSON.stringify(nul))),
        receipt(requestId, Buffer.from(JSON.stringify(titled))),
        receipt(requestId, long),
        receipt(requestId, broken),
        receipt(job, broken),
        receipt(job, Buffer.from(JSON.stringify({ status: 'In\u0000Progress', jobId: 'j\u0000ob', api: 'a\u0000' }))),
        receipt(requestId, aceEvent('rec-after', '2026-11-26T10:00:00Z')),
      ]);
      await index();
      expect(await store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-after' })).toBeDefined();
      // A NUL in an id makes it no id (never merged with `rec-nul`'s record); in a title it is dropped.
      expect(await store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-nul' })).toBeUndefined();
      expect(await store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-title' })).toMatchObject({
        title: 'Call from  to B',
      });
      expect((await store.listInsights({ limit: 10 })).map((r) => r.sourceRecordId).sort()).toEqual([
        'rec-after',
        'rec-title',
      ]);
      const deliveries = [...(await store.listDeliveries(requestId)), ...(await store.listDeliveries(job))];
      expect(deliveries).toHaveLength(7);
      expect(deliveries.every((d) => d.parseState !== 'pending')).toBe(true);
    });

    it('reads a lastModifiedTime without an offset as UTC, whatever the machine zone', async () => {
      const requestId = await subscriptionRequest(store);
      await store.registerHandler('v', 'insights:pbx');
      await store.recordDeliveries([receipt(requestId, aceEvent('rec-z', '2026-11-26T10:00:00'))]);
      await index();
      const [run] = await store.listHandlerRuns(requestId);
      expect(run!.eventKey).toBe(`insights:pbx:rec-z:${Date.parse('2026-11-26T10:00:00Z')}`);
    });

    it('indexes events from two instances at once without losing or doubling any', async () => {
      const requestId = await subscriptionRequest(store);
      const other = await t.second();
      const bodies = [...Array(40).keys()].map((i) =>
        aceEvent(`rec-c${i % 10}`, `2026-11-26T10:${String(i).padStart(2, '0')}:00Z`),
      );
      await store.recordDeliveries(bodies.map((b) => receipt(requestId, b)));
      await Promise.all([index(store), index(other)]);
      expect((await store.listEvents({ requestId, limit: 1000 })).length).toBe(40);
      const records = await store.listInsights({ limit: 100 });
      expect(records).toHaveLength(10);
      for (const r of records) expect(r.versions).toBe(4);
    });
  });
}
