import { setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { awaitInsights, pendingInsightsWaiters, type InsightsReader } from '../../src/client/insights-waiter.js';
import { isJobhookError, JobhookError } from '../../src/errors.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { InsightsKey } from '../../src/types.js';
import { tempDbPath } from '../helpers/temp.js';

/**
 * `awaitInsights`: an ACE insight record from the store, however it arrived (an event envelope or a
 * RecordingInsights read back), woken by the store's hints, with a slow safety poll, a timeout and abort.
 */
let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const REQUEST = 'req-insights-1';
const key = (sourceRecordId: string): InsightsKey => ({ domain: 'pbx', sourceRecordId });

function insightsBody(sourceRecordId: string, lastModifiedTime: string, title = 'Call from A to B') {
  return {
    domain: 'pbx',
    sourceRecordId,
    sourceSessionId: `s-${sourceRecordId}`,
    title,
    lastModifiedTime,
    speakerInfo: [{ speakerId: 'p-1', name: 'A', accountId: '1', extensionId: '2' }],
    insights: {
      Summary: [{ value: 'About a refund.', start: 0, end: 1 }],
      HighLights: [{ value: 'Refund agreed', speakerId: 'p-1', start: 3, end: 4 }],
      AIScore: [{ value: '7' }],
    },
  };
}

function envelope(uuid: string, body: unknown) {
  return {
    uuid,
    event: '/ai/ringsense/v1/public/accounts/123/domains/pbx/insights',
    timestamp: new Date().toISOString(),
    subscriptionId: 'sub-1',
    ownerId: '2',
    body,
  };
}

async function openStore(): Promise<SqliteStore> {
  store = new SqliteStore({ path: tempDbPath() });
  await store.createRequest({ requestId: REQUEST, kind: 'subscription', callbackUrl: 'http://127.0.0.1/s/x' });
  return store;
}

async function deliver(s: SqliteStore, body: unknown, source: 'webhook' | 'status-poll' = 'webhook') {
  await s.recordDeliveries([
    {
      requestId: REQUEST,
      source,
      body: Buffer.from(JSON.stringify(body)),
      rawHeaders: ['content-type', 'application/json'],
      receivedAtMs: Date.now(),
    },
  ]);
  for (let pass; !pass || pass.examined > 0;) pass = await s.indexDeliveries(deliveryRules);
}

/** The store seen through a wrapper that counts reads and can drop hints. */
function counting(inner: InsightsReader, options: { dropHints?: boolean } = {}) {
  const counts = { reads: 0, lists: 0, subscribed: 0, unsubscribed: 0 };
  let resync: (() => void) | undefined;
  const reader: InsightsReader = {
    findInsights: (k) => {
      counts.reads++;
      return inner.findInsights(k);
    },
    getDelivery: (id) => inner.getDelivery(id),
    listInsights: (query) => {
      counts.lists++;
      return inner.listInsights(query);
    },
    onInsights: (listener, onResync) => {
      counts.subscribed++;
      resync = onResync;
      const stop = inner.onInsights(options.dropHints ? () => undefined : listener);
      return () => {
        counts.unsubscribed++;
        stop();
      };
    },
  };
  return { reader, counts, resync: () => resync?.() };
}

describe('awaitInsights', () => {
  it('resolves at once with a record that came as an event, its envelope body parsed', async () => {
    const s = await openStore();
    await deliver(s, envelope('u-1', insightsBody('100', '2026-11-26T10:00:00.000Z')));
    const { record, insights } = await awaitInsights(s, key('100'), { timeoutMs: 1000 });
    expect(record).toMatchObject({ domain: 'pbx', sourceRecordId: '100', source: 'webhook', requestId: REQUEST });
    expect(insights.title).toBe('Call from A to B');
    expect(insights.insights.Highlights).toEqual([{ value: 'Refund agreed', speakerId: 'p-1', start: 3, end: 4 }]);
    expect(insights.insights.AIScore).toEqual([{ value: '7' }]);
    expect(pendingInsightsWaiters(s)).toBe(0);
  });

  it('wakes on the store hint when a record read back through REST lands, and gives the newest version', async () => {
    const s = await openStore();
    const { reader, counts } = counting(s);
    const startedAt = Date.now();
    const waiting = awaitInsights(reader, key('200'), { timeoutMs: 5000, safetyPollMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pendingInsightsWaiters(reader)).toBe(1);
    // Other records do not make this waiter read.
    const readsBefore = counts.reads;
    await deliver(s, envelope('u-other', insightsBody('999', '2026-11-26T10:00:00.000Z')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counts.reads).toBe(readsBefore);
    await deliver(s, insightsBody('200', '2026-11-26T10:05:00.000Z', 'Read back'), 'status-poll');
    const { record, insights } = await waiting;
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(record.source).toBe('status-poll');
    expect(insights.title).toBe('Read back');
    expect(counts.unsubscribed).toBe(counts.subscribed);
    // A newer version (an AI Notes call's second event) replaces it; an older one does not.
    await deliver(s, envelope('u-2', insightsBody('200', '2026-11-26T10:09:00.000Z', 'Newer')));
    await deliver(s, envelope('u-3', insightsBody('200', '2026-11-26T10:01:00.000Z', 'Older')));
    const latest = await awaitInsights(s, key('200'));
    expect(latest.insights.title).toBe('Newer');
    expect(latest.record.versions).toBe(2);
  });

  it('finds a record whose hint was lost by the safety poll, and re-reads on a resync', async () => {
    const s = await openStore();
    const polled = counting(s, { dropHints: true });
    const byPoll = awaitInsights(polled.reader, key('300'), { timeoutMs: 5000, safetyPollMs: 100 });
    await deliver(s, insightsBody('300', '2026-11-26T10:00:00.000Z'), 'status-poll');
    expect((await byPoll).record.sourceRecordId).toBe('300');

    const resynced = counting(s, { dropHints: true });
    const byResync = awaitInsights(resynced.reader, key('301'), { timeoutMs: 5000, safetyPollMs: 60_000 });
    await deliver(s, insightsBody('301', '2026-11-26T10:00:00.000Z'), 'status-poll');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const readsBefore = resynced.counts.reads;
    resynced.resync();
    expect((await byResync).record.sourceRecordId).toBe('301');
    expect(resynced.counts.reads).toBe(readsBefore + 1);
  });

  it('reads nothing while idle but one safety poll per store, and times out with JH_ERR_TIMEOUT, releasing everything', async () => {
    const s = await openStore();
    const { reader, counts } = counting(s);
    const waits = ['404', '405', '406'].map((id) =>
      awaitInsights(reader, key(id), { timeoutMs: 550, safetyPollMs: 200 }).catch((e: unknown) => e),
    );
    const errors = await Promise.all(waits);
    for (const error of errors) expect(isJobhookError(error, 'JH_ERR_TIMEOUT')).toBe(true);
    expect((errors[0] as Error).message).toContain('pbx 404');
    // One read per waiter at the start; then one list of recent records per period (at 200 and 400 ms) for all.
    expect(counts.reads).toBe(3);
    expect(counts.lists).toBe(2);
    expect(pendingInsightsWaiters(reader)).toBe(0);
    expect(counts.unsubscribed).toBe(1);
    // Nobody waits: no poll goes on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(counts.lists).toBe(2);
  });

  it('wakes every waiter when more records changed than the poll reads', async () => {
    const s = await openStore();
    const { reader, counts } = counting(s, { dropHints: true });
    const waiting = awaitInsights(reader, key('700'), { timeoutMs: 5000, safetyPollMs: 150 });
    await deliver(s, insightsBody('700', '2026-11-26T10:00:00.000Z'), 'status-poll');
    // 200 records updated after it: it is not among the poll's newest.
    await s.recordDeliveries(
      Array.from({ length: 200 }, (_, i) => ({
        requestId: REQUEST,
        source: 'status-poll' as const,
        body: Buffer.from(JSON.stringify(insightsBody(String(800 + i), '2026-11-26T10:00:00.000Z'))),
        rawHeaders: [],
        receivedAtMs: Date.now(),
      })),
    );
    for (let pass; !pass || pass.examined > 0;) pass = await s.indexDeliveries(deliveryRules);
    expect((await s.listInsights({ limit: 200 })).some((r) => r.sourceRecordId === '700')).toBe(false);
    expect((await waiting).record.sourceRecordId).toBe('700');
    expect(counts.lists).toBeGreaterThanOrEqual(1);
  });

  it('many waiters share one store subscription; an abort rejects with its reason', async () => {
    const s = await openStore();
    const { reader, counts } = counting(s);
    const controller = new AbortController();
    setMaxListeners(100, controller.signal); // one listener per waiter, as with job.result()
    const waits = Array.from({ length: 50 }, (_, i) =>
      awaitInsights(reader, key(String(1000 + i)), { signal: controller.signal }).catch((e: unknown) => e),
    );
    expect(pendingInsightsWaiters(reader)).toBe(50);
    expect(counts.subscribed).toBe(1);
    controller.abort(new JobhookError('JH_ERR_TIMEOUT', 'caller gave up'));
    for (const error of await Promise.all(waits)) expect((error as Error).message).toBe('caller gave up');
    expect(pendingInsightsWaiters(reader)).toBe(0);
    expect(counts.unsubscribed).toBe(1);
  });

  it('waits out a database that does not answer for a while', async () => {
    const s = await openStore();
    let failures = 1;
    const flaky: InsightsReader = {
      findInsights: (k) => {
        if (failures-- > 0) return Promise.reject(new JobhookError('JH_ERR_STORE_UNAVAILABLE', 'database away'));
        return s.findInsights(k);
      },
      getDelivery: (id) => s.getDelivery(id),
      listInsights: (query) => s.listInsights(query),
      onInsights: (listener) => s.onInsights(listener),
    };
    await deliver(s, insightsBody('500', '2026-11-26T10:00:00.000Z'), 'status-poll');
    const { record } = await awaitInsights(flaky, key('500'), { timeoutMs: 5000, safetyPollMs: 60_000 });
    expect(record.sourceRecordId).toBe('500');
    expect(failures).toBe(-1);
  });
});
