import { describe, expect, it } from 'vitest';
import { awaitInsights } from '../../src/client/insights-waiter.js';
import { isJobhookError } from '../../src/errors.js';
import { aceEventFilter } from '../../src/ringcentral/ace.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import {
  BACKFILL_REQUEST_SETTING,
  backfillRecord,
  backfillRequestId,
  backfillWindow,
  type BackfillWindowOptions,
} from '../../src/subscriptions/backfill.js';
import { startBackfillFixture } from './backfill-fixture.js';

/**
 * Issue #12's backfill: ACE records missed while nobody received the events (no receiver at all here) are
 * found in the call log and read back through ACE's REST endpoint, stored once each as deliveries that the
 * indexer turns into insight records, and every `awaitInsights` resolves from them.
 */
describe('backfillWindow', () => {
  it('stores each missed pbx record exactly once, by REST, and every awaitInsights resolves', async () => {
    const f = await startBackfillFixture();
    const fromMs = Date.now();
    const calls = [await f.simulate('pbx', true), await f.simulate('pbx'), await f.simulate('pbx')];
    await f.published();
    // Waiting before the backfill: each resolves from what the backfill stores.
    const waiting = calls.map((c) =>
      awaitInsights(f.store, { domain: 'pbx', sourceRecordId: c.sourceRecordId }, { timeoutMs: 10_000 }),
    );
    const options: BackfillWindowOptions = {
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs,
      toMs: Date.now(),
      budget: null,
      index: deliveryRules,
    };
    const report = await backfillWindow(options);
    expect(report).toEqual({ records: 3, stored: 3, alreadyStored: 0, notReady: 0, failed: 0, notBackfillable: [] });
    expect(f.aceReads().map((g) => g.path)).toEqual(
      calls.map((c) => `/ai/ringsense/v1/public/accounts/~/domains/pbx/records/${c.sourceRecordId}/insights`).reverse(),
    );

    const resolved = await Promise.all(waiting);
    for (const [i, { record, insights }] of resolved.entries()) {
      expect(record).toMatchObject({ domain: 'pbx', sourceRecordId: calls[i]!.sourceRecordId, source: 'status-poll' });
      expect(insights.sourceSessionId).toBe(calls[i]!.sourceSessionId);
      expect(insights.insights.Transcript?.length).toBeGreaterThan(0);
      expect(record.title).toBe(insights.title);
    }
    // The AI Notes call: the REST read gives the newest (fuller) version, with the spec's Highlights.
    expect(resolved[0]!.insights.insights.Highlights?.length).toBeGreaterThan(0);

    // One request per store, made once; three deliveries, one per record.
    const requestId = (await f.store.getSetting(BACKFILL_REQUEST_SETTING))!;
    expect(resolved.every((r) => r.record.requestId === requestId)).toBe(true);
    expect(await f.store.listDeliveries(requestId)).toHaveLength(3);
    expect(await f.store.listInsights()).toHaveLength(3);

    // A second pass over the same window reads the call log only.
    const before = f.aceReads().length;
    const again = await backfillWindow({ ...options, toMs: Date.now() });
    expect(again).toMatchObject({ records: 3, stored: 0, alreadyStored: 3 });
    expect(f.aceReads()).toHaveLength(before);
    expect(await f.store.listDeliveries(requestId)).toHaveLength(3);
  });

  it('reads again a record whose only version came by webhook: the fuller second version may be what was missed (review finding)', async () => {
    const f = await startBackfillFixture({ ace: { insightsDelayMs: 0, aiNotesGapMs: 10 } });
    const call = await f.simulate('pbx', true);
    await f.published();
    // The first (AI Notes) version arrived by webhook before the outage; the fuller one did not.
    const requestId = await backfillRequestId(f.store, 'pbx');
    const aiNotes = {
      uuid: 'u-ai-notes',
      event: '/ai/ringsense/v1/public/accounts/1/domains/pbx/insights',
      timestamp: '2026-11-26T00:00:01Z',
      subscriptionId: 's',
      ownerId: 'o',
      body: {
        domain: 'pbx',
        sourceRecordId: call.sourceRecordId,
        lastModifiedTime: '2000-01-01T00:00:01Z',
        insights: {},
      },
    };
    await f.store.recordDeliveries([
      {
        requestId,
        source: 'webhook',
        body: Buffer.from(JSON.stringify(aiNotes)),
        rawHeaders: [],
        receivedAtMs: Date.now(),
      },
    ]);
    for (let p; !p || p.examined > 0;) p = await f.store.indexDeliveries(deliveryRules);
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 1000,
      toMs: Date.now() + 1,
      budget: null,
      index: deliveryRules,
    });
    expect(report).toMatchObject({ records: 1, stored: 1, alreadyStored: 0 });
    const record = await f.store.findInsights({ domain: 'pbx', sourceRecordId: call.sourceRecordId });
    expect(record).toMatchObject({ source: 'status-poll', versions: 2 });
  });

  it('counts a record whose insights are not ready (404) without throwing', async () => {
    const f = await startBackfillFixture({ ace: { insightsDelayMs: 60_000, aiNotesGapMs: 10 } });
    const pending = await f.simulate('pbx'); // its insights come in a minute: 404 now
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 1000,
      toMs: Date.now(),
      budget: null,
      index: deliveryRules,
    });
    expect(report).toEqual({ records: 1, stored: 0, alreadyStored: 0, notReady: 1, failed: 0, notBackfillable: [] });
    expect(f.aceReads().map((g) => g.status)).toEqual([404]);
    const again = await backfillRecord({
      platform: f.platform,
      store: f.store,
      domain: 'pbx',
      ...pending,
      budget: null,
    });
    expect(again).toBeNull();
    expect(await f.store.listInsights()).toEqual([]);
    expect(await f.store.getSetting(BACKFILL_REQUEST_SETTING)).toBeNull();
  });

  it('stores under the request of a kept subscription that takes the domain', async () => {
    const f = await startBackfillFixture();
    const { requestId } = await f.store.createRequest({
      requestId: 'req-sub-1',
      kind: 'subscription',
      callbackUrl: 'http://127.0.0.1/s/req-sub-1',
    });
    await f.store.saveSubscription({
      name: 'ace',
      requestId,
      eventFilters: [aceEventFilter('pbx')],
      expiresIn: 3600,
      platformId: 'sub-1',
      address: 'http://127.0.0.1/s/req-sub-1',
      status: 'Blacklisted',
      expiresAt: null,
      disabledFilters: [],
      blacklistedData: { reason: 'test' },
      lastError: null,
      checkedAt: null,
    });
    const call = await f.simulate('pbx');
    await f.published();
    const stored = await backfillRecord({
      platform: f.platform,
      store: f.store,
      domain: 'pbx',
      sourceRecordId: call.sourceRecordId,
      budget: null,
      index: deliveryRules,
    });
    expect(stored?.requestId).toBe(requestId);
    expect(await f.store.getSetting(BACKFILL_REQUEST_SETTING)).toBeNull();
    expect(await f.store.findInsights({ domain: 'pbx', sourceRecordId: call.sourceRecordId })).toMatchObject({
      requestId,
      source: 'status-poll',
      versions: 1,
    });
    // An rcv record read by id (no subscription takes rcv): under the store's own backfill request.
    const meeting = await f.simulate('rcv');
    await f.published();
    const other = await backfillRecord({
      platform: f.platform,
      store: f.store,
      domain: 'rcv',
      ...meeting,
      budget: null,
    });
    expect(other?.requestId).toBe(await f.store.getSetting(BACKFILL_REQUEST_SETTING));
    expect(other?.requestId).not.toBe(requestId);
  });

  it('reports rcx, ms-teams and nice-incontact as not backfillable and reads nothing for them', async () => {
    const f = await startBackfillFixture();
    await f.simulate('rcx');
    await f.published();
    const warnings: unknown[] = [];
    const logger = {
      warn: (...args: unknown[]) => warnings.push(args),
      info: () => undefined,
      debug: () => undefined,
    } as unknown as NonNullable<BackfillWindowOptions['logger']>;
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['rcx', 'ms-teams', 'nice-incontact'],
      fromMs: Date.now() - 60_000,
      toMs: Date.now(),
      budget: null,
      logger,
    });
    expect(report).toMatchObject({ records: 0, stored: 0, notBackfillable: ['rcx', 'ms-teams', 'nice-incontact'] });
    expect(f.gets).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('ends with the refusal when the user may not read insights (403), without reading further', async () => {
    const f = await startBackfillFixture();
    await f.simulate('pbx');
    await f.simulate('pbx');
    await f.published();
    const refusing = {
      ...f.platform,
      get: async (path: string) => {
        const answer = await f.platform.get(path);
        if (!path.startsWith('/ai/')) return answer;
        const body = Buffer.from(
          JSON.stringify({
            errorCode: 'CMN-401',
            message: 'In order to call this API endpoint, user needs to have [ReadRingSenseInsights] permission',
          }),
        );
        return { status: 403, headers: new Headers(), body, text: body.toString() };
      },
    };
    const error = await backfillWindow({
      platform: refusing,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 60_000,
      toMs: Date.now(),
      budget: null,
    }).catch((e: unknown) => e);
    expect(isJobhookError(error, 'JH_ERR_API_REJECTED')).toBe(true);
    expect(f.aceReads()).toHaveLength(1);
  });
});
