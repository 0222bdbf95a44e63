import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring, generateSecret } from '../../src/callback/callback-url.js';
import { createMinter } from '../../src/client/minter.js';
import { JobhookError } from '../../src/errors.js';
import { createLocalApi, type LocalApi } from '../../src/inspector/local-api.js';
import { exportInsights } from '../../src/inspector/insights-exports.js';
import { aceEventFilter, parseAceInsights } from '../../src/ringcentral/ace.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { InsightsDetailView } from '../../src/inspector/push-routes.js';
import type { DeliverySource, InsightsRecord, SubscriptionInput, SubscriptionRecord } from '../../src/types.js';
import { tempDbPath } from '../helpers/temp.js';
import { aceFixture } from './ace-fixtures.js';

/**
 * The local API's subscription and ACE insight routes (issue #12) against a real SqliteStore whose records
 * were made the real way: a minted subscription request, ACE notification bodies recorded as deliveries,
 * then indexed with the delivery rules the receiver uses.
 */
interface PushApi {
  store: SqliteStore;
  base: string;
  requestId: string;
  api: LocalApi;
}

let open: PushApi | undefined;
afterEach(async () => {
  await open?.api.close();
  await open?.store.close();
  open = undefined;
});

async function startPushApi(recreateSubscription?: (name: string) => Promise<void>): Promise<PushApi> {
  const store = new SqliteStore({ path: tempDbPath(), busyTimeoutMs: 200 });
  const keyring = createKeyring(await store.ensureSecrets(generateSecret));
  const mint = createMinter({ store, keyring, publicUrl: 'http://127.0.0.1:9', pathPrefix: '/webhooks' });
  const { requestId } = await mint({ kind: 'subscription' });
  const api = createLocalApi({ store, mint, ...(recreateSubscription ? { recreateSubscription } : {}) });
  const { port } = await api.listen(0, '127.0.0.1');
  open = { store, base: `http://127.0.0.1:${port}`, requestId, api };
  return open;
}

let uuid = 9_000_000;
function envelope(body: Record<string, unknown>): Record<string, unknown> {
  return {
    uuid: String(uuid++),
    event: aceEventFilter(body.domain as 'pbx', '500000001'),
    timestamp: '2026-03-02T10:12:05.000Z',
    subscriptionId: 'sub-platform-1',
    ownerId: '7000000001',
    body,
  };
}

async function ingest(
  store: SqliteStore,
  requestId: string,
  bodies: unknown[],
  source: DeliverySource = 'webhook',
): Promise<void> {
  await store.recordDeliveries(
    bodies.map((b) => ({
      requestId,
      source,
      body: Buffer.from(JSON.stringify(b)),
      rawHeaders: ['content-type', 'application/json'],
      receivedAtMs: Date.now(),
    })),
  );
  for (let pass; !pass || pass.examined > 0;) pass = await store.indexDeliveries(deliveryRules);
}

const subscription = (requestId: string, over: Partial<SubscriptionInput> = {}): SubscriptionInput => ({
  name: 'ace-pbx',
  requestId,
  eventFilters: [aceEventFilter('pbx')],
  expiresIn: 315_360_000,
  platformId: 'sub-platform-1',
  address: 'http://127.0.0.1:9/webhooks/x',
  status: 'Blacklisted',
  expiresAt: '2036-03-01T00:00:00.000Z',
  disabledFilters: [{ filter: '/restapi/v1.0/account/~/telephony/sessions', reason: 'Permission denied' }],
  blacklistedData: { blacklistedAt: '2026-03-02T11:00:00.000Z', reason: 'Webhook responses timed out' },
  lastError: null,
  checkedAt: '2026-03-02T11:00:01.000Z',
  ...over,
});

const get = async (path: string): Promise<{ status: number; body: unknown; headers: Headers }> => {
  const response = await fetch(`${open!.base}${path}`);
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(text);
  return { status: response.status, body, headers: response.headers };
};

/** A JSON answer read as the type the route documents. */
async function getJson<T>(path: string): Promise<T> {
  const { status, body } = await get(path);
  expect(status, path).toBe(200);
  return body as T;
}
type SubscriptionsAnswer = { subscriptions: SubscriptionRecord[]; canRecreate: boolean };
type InsightsAnswer = { insights: InsightsRecord[] };

const postJson = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${open!.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });

/** fetch() sends its own Host; a DNS-rebinding page's request carries the attacker's name. */
const postWithHost = (url: string, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end('{}');
  });

const pbxBody = () => aceFixture('pbx-record.json');

describe('GET /api/subscriptions', () => {
  it('lists each kept subscription with its state, expiry, filters, last event and blacklist reason', async () => {
    const { store, requestId } = await startPushApi();
    await store.saveSubscription(subscription(requestId));
    await ingest(store, requestId, [envelope(pbxBody())]);
    const body = await getJson<SubscriptionsAnswer>('/api/subscriptions');
    expect(body.canRecreate).toBe(false);
    expect(body.subscriptions).toEqual([
      expect.objectContaining({
        name: 'ace-pbx',
        status: 'Blacklisted',
        platformId: 'sub-platform-1',
        expiresAt: '2036-03-01T00:00:00.000Z',
        eventFilters: ['/ai/ringsense/v1/public/accounts/~/domains/pbx/insights'],
        blacklistedData: { blacklistedAt: '2026-03-02T11:00:00.000Z', reason: 'Webhook responses timed out' },
        disabledFilters: [{ filter: '/restapi/v1.0/account/~/telephony/sessions', reason: 'Permission denied' }],
        lastError: null,
        lastEventAt: expect.any(String),
      }),
    ]);
  });
});

describe('GET /api/insights', () => {
  it('lists records newest first, by domain on ?domain=, with a bounded limit', async () => {
    const { store, requestId } = await startPushApi();
    await ingest(store, requestId, [envelope(pbxBody())]);
    await ingest(store, requestId, [aceFixture('rcx-event.json')]);
    const all = await getJson<InsightsAnswer>('/api/insights');
    expect(all.insights.map((r) => r.domain)).toEqual(['rcx', 'pbx']);
    const rcx = await getJson<InsightsAnswer>('/api/insights?domain=rcx');
    expect(rcx.insights).toEqual([
      expect.objectContaining({
        domain: 'rcx',
        sourceRecordId: 'p-v-0a1b2c3d4e5f60718293a4b5c6d7e8f9-1772552000000-00aa11bb22cc3',
        title: 'Inbound call with +16505550123',
        versions: 1,
        source: 'webhook',
      }),
    ]);
    expect((await get('/api/insights?limit=0')).status).toBe(400);
    expect((await get('/api/insights?domain=rcv')).body).toEqual({ insights: [] });
  });

  it("shows a record's newest version by speaker, the events that carried it, the raw delivery and its formats", async () => {
    const { store, requestId } = await startPushApi();
    const first = pbxBody();
    const newer = {
      ...pbxBody(),
      lastModifiedTime: '2026-03-02T10:30:00.000Z',
      insights: { ...(pbxBody().insights as object), AIScore: [{ value: '8' }] },
    };
    const [one, two] = [envelope(first), envelope(newer)];
    await ingest(store, requestId, [one]);
    await ingest(store, requestId, [two]);
    // Another call's event on the same subscription: not one of this record's (outside tester).
    await ingest(store, requestId, [envelope({ ...pbxBody(), sourceRecordId: '2718281828459' })]);
    const body = await getJson<InsightsDetailView>('/api/insights/pbx/3141592653589');
    expect(body.record).toMatchObject({ domain: 'pbx', sourceRecordId: '3141592653589', versions: 2 });
    expect(body.problem).toBeNull();
    expect(body.insights).toMatchObject({
      title: 'Call from Ada Quinn to Ben Ortiz',
      aiScore: '8',
      sentiment: 'Neutral',
    });
    expect(body.insights!.transcript.map((t) => [t.speaker, t.start])).toEqual([
      ['Ada Quinn', 1.5],
      ['Ben Ortiz', 5],
    ]);
    expect(body.insights!.highlights[0]!.text).toBe('Delivery schedule raised.');
    expect(body.insights!.nextSteps[0]!.text).toBe('Send the revised schedule by Friday.');
    expect(body.exportFormats).toEqual(['json', 'txt', 'srt', 'vtt']);
    expect(body.events.map((e) => [e.uuid, e.current])).toEqual([
      [two.uuid, true],
      [one.uuid, false],
    ]);
    expect(JSON.parse(body.delivery!.bodyText!)).toEqual(two);
    expect(body.delivery!.headers).toEqual([['content-type', 'application/json']]);
  });

  it('shows a record read back through REST (a bare RecordingInsights, no envelope) and ids that need escaping', async () => {
    const { store, requestId } = await startPushApi();
    const id = 'cbac2b78!us-10@us-10 /x';
    await ingest(store, requestId, [{ ...pbxBody(), sourceRecordId: id }], 'status-poll');
    const body = await getJson<InsightsDetailView>(`/api/insights/pbx/${encodeURIComponent(id)}`);
    expect(body.record).toMatchObject({ sourceRecordId: id, source: 'status-poll' });
    expect(body.insights!.sourceRecordId).toBe(id);
    expect(body.events).toEqual([]);
    const srt = await get(`/api/insights/pbx/${encodeURIComponent(id)}/export.srt`);
    expect(srt.headers.get('content-disposition')).toBe('attachment; filename="pbx-cbac2b78_us-10_us-10__x.srt"');
  });

  it('answers 404 for a record it does not have, and for a malformed escape 400', async () => {
    await startPushApi();
    expect(await get('/api/insights/pbx/404404')).toMatchObject({
      status: 404,
      body: { error: { message: 'no insight record pbx 404404' } },
    });
    expect((await get('/api/insights/pbx/%E0%A4%A')).status).toBe(400);
  });
});

describe('GET /api/insights/{domain}/{sourceRecordId}/export.{format}', () => {
  it('downloads txt, SRT, WebVTT and JSON built from the newest version', async () => {
    const { store, requestId } = await startPushApi();
    await ingest(store, requestId, [envelope(pbxBody())]);
    const parsed = parseAceInsights(pbxBody());
    for (const format of ['txt', 'srt', 'vtt', 'json'] as const) {
      const { status, body, headers } = await get(`/api/insights/pbx/3141592653589/export.${format}`);
      expect(status, format).toBe(200);
      const expected = exportInsights(parsed, format);
      expect(headers.get('content-type'), format).toBe(expected.contentType);
      expect(headers.get('content-disposition'), format).toBe(`attachment; filename="pbx-3141592653589.${format}"`);
      expect(format === 'json' ? JSON.stringify(body, null, 2) + '\n' : body, format).toBe(expected.body);
    }
    expect((await get('/api/insights/pbx/3141592653589/export.txt')).body).toContain(
      '[00:05] Ben Ortiz: Sure, is this about the delivery schedule?',
    );
  });

  it('refuses a format it does not make (404), a record without a timed transcript (422) and no record (404)', async () => {
    const { store, requestId } = await startPushApi();
    const noTranscript = { ...pbxBody(), sourceRecordId: '77', insights: { AIScore: [{ value: '5' }] } };
    await ingest(store, requestId, [envelope(noTranscript)]);
    expect((await get('/api/insights/pbx/77/export.pdf')).status).toBe(404);
    const srt = await get('/api/insights/pbx/77/export.srt');
    expect(srt).toMatchObject({
      status: 422,
      body: { error: { message: expect.stringMatching(/no timed transcript/) } },
    });
    expect((await get('/api/insights/pbx/77/export.json')).status).toBe(200);
    expect((await get('/api/insights/pbx/78/export.json')).status).toBe(404);
  });
});

describe('POST /api/subscriptions/{name}/recreate', () => {
  it('answers 503 when no keeper runs in this process', async () => {
    const { store, requestId } = await startPushApi();
    await store.saveSubscription(subscription(requestId));
    const response = await postJson('/api/subscriptions/ace-pbx/recreate');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { message: expect.stringMatching(/^no subscription keeper runs in this process/) },
    });
  });

  it("calls the keeper's re-create with the name and answers the subscription as saved after it", async () => {
    const calls: string[] = [];
    const { store, requestId } = await startPushApi(async (name) => {
      calls.push(name);
      await store.saveSubscription(subscription(requestId, { status: 'Active', platformId: 'sub-platform-2' }));
    });
    await store.saveSubscription(subscription(requestId));
    expect((await getJson<SubscriptionsAnswer>('/api/subscriptions')).canRecreate).toBe(true);
    // By platform id too: the store finds either; the keeper is always given the name.
    const response = await postJson('/api/subscriptions/sub-platform-1/recreate');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      subscription: expect.objectContaining({ name: 'ace-pbx', status: 'Active', platformId: 'sub-platform-2' }),
    });
    expect(calls).toEqual(['ace-pbx']);
  });

  it("reports the keeper's failure with its code; unknown names are 404 and reach no keeper", async () => {
    const calls: string[] = [];
    const { store, requestId } = await startPushApi(async (name) => {
      calls.push(name);
      throw new JobhookError('JH_ERR_PLATFORM_UNREACHABLE', 'the platform did not answer');
    });
    await store.saveSubscription(subscription(requestId));
    const failed = await postJson('/api/subscriptions/ace-pbx/recreate');
    expect(failed.status).toBe(502);
    expect(await failed.json()).toEqual({
      error: { message: 'the platform did not answer', code: 'JH_ERR_PLATFORM_UNREACHABLE' },
    });
    expect((await postJson('/api/subscriptions/nope/recreate')).status).toBe(404);
    expect(calls).toEqual(['ace-pbx']);
  });

  it('keeps the write protections of every POST: other origins, other sites and non-JSON are refused', async () => {
    const calls: string[] = [];
    const { store, requestId } = await startPushApi(async (name) => void calls.push(name));
    await store.saveSubscription(subscription(requestId));
    const path = `${open!.base}/api/subscriptions/ace-pbx/recreate`;
    expect((await postJson('/api/subscriptions/ace-pbx/recreate', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await postJson('/api/subscriptions/ace-pbx/recreate', { origin: 'null' })).status).toBe(403);
    expect((await postJson('/api/subscriptions/ace-pbx/recreate', { 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    );
    expect((await fetch(path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(
      415,
    );
    expect(await postWithHost(path, 'attacker.example')).toBe(403);
    expect(calls).toEqual([]);
    const own = await postJson('/api/subscriptions/ace-pbx/recreate', { origin: open!.base });
    expect(own.status).toBe(200);
    expect(calls).toEqual(['ace-pbx']);
  });
});

describe('GET /api/events', () => {
  it('announces a new insight version with its key, and a subscription change', async () => {
    const { store, requestId } = await startPushApi();
    const controller = new AbortController();
    const response = await fetch(`${open!.base}/api/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    let seen = '';
    const until = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 8000;
      while (!pattern.test(seen)) {
        if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in ${seen}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        seen += Buffer.from(value).toString('utf8');
      }
    };
    await until(/jobhook inspector events/);
    await ingest(store, requestId, [envelope(pbxBody())]);
    await until(/event: insights\ndata: \{"domain":"pbx","sourceRecordId":"3141592653589"\}/);
    seen = '';
    await store.saveSubscription(subscription(requestId, { status: 'Active' }));
    await until(/event: changed/);
    controller.abort();
  });
});
