import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOn } from '../../src/http-listen.js';
import type { EmulatorConfig } from '../../src/emulator/options.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import {
  aceEventFilter,
  isNewerInsights,
  parseAceInsights,
  parseNotificationEnvelope,
} from '../../src/ringcentral/ace.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/** ACE insights events, blacklisting and the ACE REST reads of the emulator (reference §6, §10–12). */
interface Receiver {
  url: string;
  /** Answer to notifications (the handshake is always echoed); 'hang' never answers. */
  answer: number | 'hang';
  notifications: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { answer: 200, notifications: [] } as unknown as Receiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const token = req.headers['validation-token'];
      if (typeof token === 'string' && body === '') return void res.writeHead(200, { 'validation-token': token }).end();
      receiver.notifications.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      if (receiver.answer !== 'hang') res.writeHead(receiver.answer).end();
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

let emulator: Emulator | undefined;
const receivers: Receiver[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const FAST: EmulatorConfig = { ace: { insightsDelayMs: 20, aiNotesGapMs: 150 } };

async function setup(config: EmulatorConfig = {}) {
  emulator = createEmulator({ ...FAST, ...config, ace: { ...FAST.ace, ...config.ace } });
  const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const tokenResponse = await fetch(`${base}/restapi/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('id:secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: fakeJwt() }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const subscribe = async (receiver: Receiver, domain: 'pbx' | 'rcx') => {
    const response = await api('/restapi/v1.0/subscription', {
      method: 'POST',
      body: {
        eventFilters: [aceEventFilter(domain)],
        deliveryMode: { transportType: 'WebHook', address: receiver.url, verificationToken: `token-${domain}` },
        expiresIn: 3600,
      },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  };
  const call = async (body: Record<string, unknown>) => {
    const response = await fetch(`${base}/_emulator/ace/calls`, { method: 'POST', body: JSON.stringify(body) });
    expect(response.status).toBe(201);
    return (await response.json()) as { sourceRecordId: string; sourceSessionId: string; events: number };
  };
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  return { base, api, subscribe, call, receiver };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('emulated ACE insights events', () => {
  it('a pbx call with AI Notes sends two events to the matching subscription only, the second newer and fuller', async () => {
    const { subscribe, call, receiver } = await setup();
    const pbx = await receiver();
    const rcx = await receiver();
    const pbxId = await subscribe(pbx, 'pbx');
    await subscribe(rcx, 'rcx');
    const made = await call({ domain: 'pbx', withAiNotes: true });
    expect(made.events).toBe(2);
    await until(() => pbx.notifications.length >= 2);
    await sleep(100);
    expect(pbx.notifications).toHaveLength(2);
    expect(rcx.notifications).toHaveLength(0);
    const [first, second] = pbx.notifications.map((n) => {
      expect(n.headers['verification-token']).toBe('token-pbx');
      const envelope = parseNotificationEnvelope(n.body);
      expect(envelope).toMatchObject({
        uuid: expect.stringMatching(/^\d{19}$/),
        event: expect.stringMatching(/^\/ai\/ringsense\/v1\/public\/accounts\/\d+\/domains\/pbx\/insights$/),
        subscriptionId: pbxId,
      });
      return parseAceInsights(envelope.body);
    });
    expect(first!.sourceRecordId).toBe(made.sourceRecordId);
    expect(second!.sourceRecordId).toBe(made.sourceRecordId);
    expect(isNewerInsights(second!, first!)).toBe(true);
    expect(isNewerInsights(first!, second!)).toBe(false);
    expect(Object.keys(first!.insights).sort()).toEqual(['CallNotes', 'Summary', 'Transcript']);
    expect(Object.keys(second!.insights).length).toBeGreaterThan(Object.keys(first!.insights).length);
    expect(second!.insights.Highlights?.length).toBeGreaterThan(0); // sent as `HighLights`
    expect(second!.insights.AIScore?.[0]?.value).toMatch(/^\d+$/);
    expect(first!.eventType).toBeUndefined(); // the pbx shape has none
  });

  it('an rcx call: one event with eventType, rsRecordUri, phone numbers and QnA; faults duplicate it', async () => {
    const { subscribe, call, receiver } = await setup();
    const rcx = await receiver();
    await subscribe(rcx, 'rcx');
    await call({ domain: 'rcx', faults: 'duplicate=2' });
    await until(() => rcx.notifications.length >= 2);
    const [a, b] = rcx.notifications;
    expect(a!.body.uuid).toBe(b!.body.uuid);
    const body = parseAceInsights(a!.body.body);
    expect(body).toMatchObject({ eventType: 'Create', domain: 'rcx', rsRecordUri: expect.stringMatching(/^https:/) });
    expect(body.speakerInfo.every((s) => typeof s.phoneNumber === 'string')).toBe(true);
    expect(body.insights.QnA).toBeDefined();
  });

  it('blacklists a subscription whose receiver answers 500 repeatedly, with blacklistedData, and stops delivering', async () => {
    const { api, subscribe, call, receiver } = await setup({
      subscriptions: { blacklistAfterFailures: 3, delivery: { retries: 5, backoffMs: 10, attemptTimeoutMs: 1000 } },
    });
    const r = await receiver();
    r.answer = 500;
    const id = await subscribe(r, 'pbx');
    await call({ domain: 'pbx' });
    await until(() => r.notifications.length >= 3);
    await sleep(150);
    expect(r.notifications).toHaveLength(3); // retries stop once blacklisted
    const info = (await (await api(`/restapi/v1.0/subscription/${id}`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      status: 'Blacklisted',
      blacklistedData: {
        blacklistedAt: expect.any(String),
        reason: 'Webhook responses with code: [500], reason: [Internal Server Error]',
      },
    });
    await call({ domain: 'pbx' });
    await sleep(200);
    expect(r.notifications).toHaveLength(3);
  });

  it('blacklists on repeated timeouts with the Read timed out reason', async () => {
    const { api, subscribe, call, receiver } = await setup({
      subscriptions: { blacklistAfterFailures: 2, delivery: { retries: 3, backoffMs: 10, attemptTimeoutMs: 150 } },
    });
    const r = await receiver();
    r.answer = 'hang';
    const id = await subscribe(r, 'pbx');
    await call({ domain: 'pbx' });
    await until(() => r.notifications.length >= 2);
    await sleep(300);
    const info = (await (await api(`/restapi/v1.0/subscription/${id}`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      status: 'Blacklisted',
      blacklistedData: { reason: 'I/O operation is failed. Details: [Read timed out]' },
    });
  });

  it('the control API blacklists at once; a blacklisted subscription gets no events', async () => {
    const { base, api, subscribe, call, receiver } = await setup();
    const r = await receiver();
    const id = await subscribe(r, 'pbx');
    const response = await fetch(`${base}/_emulator/subscriptions/${id}/blacklist`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'Webhook responses with code: [404], reason: [Not Found]' }),
    });
    expect(response.status).toBe(200);
    expect(await (await api(`/restapi/v1.0/subscription/${id}`)).json()).toMatchObject({
      status: 'Blacklisted',
      blacklistedData: { reason: 'Webhook responses with code: [404], reason: [Not Found]' },
    });
    await call({ domain: 'pbx' });
    await sleep(200);
    expect(r.notifications).toHaveLength(0);
    expect((await fetch(`${base}/_emulator/subscriptions/nope/blacklist`, { method: 'POST' })).status).toBe(404);
  });
});

describe('emulator control for ACE', () => {
  it('is deterministic under the seed, and /_emulator/reset forgets subscriptions and calls', async () => {
    const first = await setup({ seed: 'fixed' });
    const a = await first.call({ domain: 'rcx' });
    const b = await first.call({ domain: 'pbx' });
    const r = await first.receiver();
    await first.subscribe(r, 'pbx');
    expect((await fetch(`${first.base}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    const state = (await (await fetch(`${first.base}/_emulator/subscriptions`)).json()) as { subscriptions: unknown[] };
    expect(state.subscriptions).toEqual([]);
    expect(await (await fetch(`${first.base}/_emulator/ace/calls`)).json()).toEqual({ calls: [] });
    // After a reset the same seed replays the same ids.
    expect(await first.call({ domain: 'rcx' })).toEqual(a);
    expect(await first.call({ domain: 'pbx' })).toEqual(b);
  });

  it('refuses an unknown domain and AI Notes outside pbx', async () => {
    const { base } = await setup();
    const post = (body: unknown) =>
      fetch(`${base}/_emulator/ace/calls`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ domain: 'phone' })).status).toBe(400);
    expect((await post({ domain: 'rcx', withAiNotes: true })).status).toBe(400);
  });
});

describe('emulated ACE REST reads', () => {
  it('answers the newest insights of a call by record and by session; 404 before and for unknown ids', async () => {
    const { api, call } = await setup({ ace: { insightsDelayMs: 100, aiNotesGapMs: 200 } });
    const made = await call({ domain: 'pbx', withAiNotes: true });
    const recordPath = `/ai/ringsense/v1/public/accounts/~/domains/pbx/records/${made.sourceRecordId}/insights`;
    expect((await api(recordPath)).status).toBe(404); // not published yet
    await sleep(450);
    const record = (await (await api(recordPath)).json()) as Record<string, unknown>;
    expect(record).toMatchObject({ domain: 'pbx', sourceRecordId: made.sourceRecordId });
    expect(record.eventType).toBeUndefined();
    const insights = record.insights as Record<string, unknown>;
    expect(Object.keys(insights)).toEqual(expect.arrayContaining(['Highlights', 'NextSteps', 'AIScore', 'CallNotes']));
    expect(insights.HighLights).toBeUndefined();

    const only = (await (await api(`${recordPath}?insightTypes=Summary,AIScore`)).json()) as Record<string, unknown>;
    expect(Object.keys(only.insights as object).sort()).toEqual(['AIScore', 'Summary']);

    const session = await api(
      `/ai/ringsense/v1/public/accounts/~/domains/pbx/sessions/${encodeURIComponent(made.sourceSessionId)}/insights`,
    );
    expect(await session.json()).toMatchObject({
      records: [{ sourceRecordId: made.sourceRecordId }],
      paging: { page: 1, totalElements: 1 },
    });
    expect((await api('/ai/ringsense/v1/public/accounts/~/domains/pbx/records/999/insights')).status).toBe(404);
    expect(
      (await api(`/ai/ringsense/v1/public/accounts/~/domains/rcx/records/${made.sourceRecordId}/insights`)).status,
    ).toBe(404);
    expect((await api('/ai/ringsense/v1/public/accounts/~/domains/phone/records/1/insights')).status).toBe(400);
  });

  it('counts reads against a configured Light-group limit: 429 with Retry-After', async () => {
    const { api, call } = await setup({
      subscriptions: { lightRateLimit: { limit: 2, windowMs: 60_000, penaltyMs: 60_000 } },
    });
    const made = await call({ domain: 'rcx' });
    await sleep(100);
    const path = `/ai/ringsense/v1/public/accounts/~/domains/rcx/records/${made.sourceRecordId}/insights`;
    const first = await api(path);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-rate-limit-group')).toBe('light');
    expect((await api(path)).status).toBe(200);
    const refused = await api(path);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
  });
});

describe('parseAceInsights', () => {
  const fixture = (name: string): unknown =>
    JSON.parse(readFileSync(new URL(`../fixtures/ace/${name}`, import.meta.url), 'utf8'));

  it('reads a pbx REST record: HighLights normalised to Highlights, AIScore a string, CallNotes kept', () => {
    const record = parseAceInsights(fixture('pbx-record.json'));
    expect(record).toMatchObject({ domain: 'pbx', sourceRecordId: '3141592653589', recordingDurationMs: 61250 });
    expect(record.insights.Highlights).toEqual([
      expect.objectContaining({ value: 'Delivery schedule raised.', start: 5, end: 9.8 }),
    ]);
    expect(record.insights.HighLights).toBeUndefined();
    expect(record.insights.AIScore).toEqual([{ value: '6' }]);
    expect(record.insights.CallNotes?.[0]?.value).toContain('\n');
    expect(record.speakerInfo[1]).toMatchObject({ accountId: null, extensionId: null });
  });

  it('reads an rcx event envelope: unknown insight types (QnA) and keys kept, a numeric AIScore read as a string', () => {
    const raw = fixture('rcx-event.json') as { body: { insights: { AIScore: { value: unknown }[] }; extra?: unknown } };
    raw.body.insights.AIScore[0]!.value = 9;
    raw.body.extra = { kept: true };
    const envelope = parseNotificationEnvelope(raw);
    expect(envelope.uuid).toBe('7301934857201937465');
    const body = parseAceInsights(envelope.body);
    expect(body.eventType).toBe('Create');
    expect(body.insights.QnA).toEqual([expect.objectContaining({ value: 'Can you fix it?' })]);
    expect(body.insights.AIScore).toEqual([{ value: '9' }]);
    expect(body.extra).toEqual({ kept: true });
    expect(body.speakerInfo[0]?.phoneNumber).toBe('+16505550999');
  });

  it('refuses a body without domain or sourceRecordId with JH_ERR_INVALID_ARGUMENT', () => {
    expect(() => parseAceInsights({ domain: 'pbx' })).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => parseAceInsights('x')).toThrow(expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }));
  });
});
