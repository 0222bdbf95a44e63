import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardHandler, generateForwardSecret, registerForwarding } from '../../src/client/forwarder.js';
import { HandlerRunner, type EventHandlerInput, type InsightsHandlerInput } from '../../src/handlers/handler-runner.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

let harness: Harness | undefined;
let loop: Loop | undefined;
const runners: HandlerRunner[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop({ graceMs: 0 });
  for (const close of closers.splice(0)) await close();
  await harness?.close();
  await loop?.close();
  harness = loop = undefined;
});

function runner(h: Harness, backoffMs = 20): HandlerRunner {
  const made = new HandlerRunner({ store: h.store, backoffMs, pollMs: 20, leaseMs: 2000, maxAttempts: 3 });
  runners.push(made);
  return made;
}

const PBX_EVENT = '/ai/ringsense/v1/public/accounts/37439510/domains/pbx/insights';

function aceNotification(sourceRecordId: string, lastModifiedTime: string, summary: string, uuid = randomUUID()) {
  return {
    uuid,
    event: PBX_EVENT,
    timestamp: new Date().toISOString(),
    subscriptionId: 'sub-h',
    ownerId: '62264425',
    body: {
      domain: 'pbx',
      sourceRecordId,
      title: 'Call from A to B',
      lastModifiedTime,
      speakerInfo: [{ speakerId: 'p-1', name: 'A' }],
      insights: { Summary: [{ value: summary, start: 0, end: 1 }], HighLights: [{ value: 'h', speakerId: 'p-1' }] },
    },
  };
}

/** Posts a notification to a subscription URL with its verification token, as the platform does. */
async function notify(h: Harness, url: string, token: string, body: object): Promise<void> {
  expect(
    await post(url, JSON.stringify(body), { 'verification-token': token, 'content-type': 'application/json' }),
  ).toBe(200);
}

describe('event and insights handlers (durable, per event)', () => {
  it('runs an event handler once per notification uuid, and an insights handler once per newer version', async () => {
    harness = await startHarness(tempDbPath());
    const h = harness;
    const r = runner(h);
    const events: EventHandlerInput[] = [];
    const versions: InsightsHandlerInput[] = [];
    const presence: string[] = [];
    await r.registerEvents('all', '*', (input) => void events.push(input));
    await r.registerEvents(
      'presence',
      '/restapi/v1.0/account/~/extension/~/presence',
      (i) => void presence.push(i.uuid),
    );
    await r.registerInsights('pbx', 'pbx', (input) => {
      versions.push(input);
      expect(input.record.insights.Highlights).toEqual([{ value: 'h', speakerId: 'p-1' }]); // HighLights normalised
    });
    const { callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    // A call with AI Notes: two events for one record; the first is re-delivered; an older one comes late.
    const first = aceNotification('rec-h1', '2026-11-26T10:00:00Z', 'from AI Notes');
    await notify(h, callbackUrl, verificationToken, first);
    await notify(h, callbackUrl, verificationToken, first);
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-h1', '2026-11-26T10:04:00Z', 'from ACE'));
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-h1', '2026-11-26T09:00:00Z', 'stale'));
    await waitFor(() => events.length === 3 && versions.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.uuid)).size).toBe(3);
    expect(events.find((e) => e.uuid === first.uuid)!.envelope.body).toMatchObject({ sourceRecordId: 'rec-h1' });
    expect(presence).toEqual([]);
    expect(versions.map((v) => v.record.insights.Summary?.[0]?.value).sort()).toEqual(['from ACE', 'from AI Notes']);
    expect(versions.every((v) => v.domain === 'pbx' && v.sourceRecordId === 'rec-h1' && v.source === 'webhook')).toBe(
      true,
    );
    const record = await h.store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-h1' });
    expect(record).toMatchObject({ lastModifiedTime: '2026-11-26T10:04:00Z', versions: 2 });
  });

  it('never hands an older insights version after a newer one: a failed older run retried later is skipped (review finding)', async () => {
    harness = await startHarness(tempDbPath());
    const h = harness;
    const seen: string[] = [];
    // The retry is due after 400 ms: the newer version is stored well before it.
    await runner(h, 400).registerInsights('crm', 'pbx', (input) => {
      const summary = input.record.insights.Summary?.[0]?.value ?? '';
      seen.push(summary);
      if (summary === 'from AI Notes' && input.attempt === 1) throw new Error('CRM busy');
    });
    const { requestId, callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-h4', '2026-11-26T10:00:00Z', 'from AI Notes'));
    await waitFor(() => seen.length === 1);
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-h4', '2026-11-26T10:04:00Z', 'from ACE'));
    await waitFor(async () => (await h.store.listHandlerRuns(requestId)).every((r) => r.state === 'succeeded'));
    // Without the check the retry ran last: ['from AI Notes', 'from ACE', 'from AI Notes'].
    expect(seen).toEqual(['from AI Notes', 'from ACE']);
  });

  it('retries a failing event handler and dead-letters it with the attempts, as for job results', async () => {
    harness = await startHarness(tempDbPath());
    const h = harness;
    let attempts = 0;
    await runner(h).registerEvents('broken', '*', () => {
      attempts++;
      throw new Error('downstream down');
    });
    const { requestId, callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-h2', '2026-11-26T10:00:00Z', 's'));
    const runs = await waitFor(async () => {
      const list = await h.store.listHandlerRuns(requestId);
      return list.length === 1 && list[0]!.state === 'dead' && list;
    });
    expect(attempts).toBe(3);
    expect(runs[0]).toMatchObject({ handler: 'broken', attempts: 3, lastError: 'downstream down' });
    expect(runs[0]!.eventKey).toMatch(/^event:/);
  });

  it('forwards events signed, with a webhook-id stable per event uuid', async () => {
    harness = await startHarness(tempDbPath());
    const h = harness;
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(seen.length === 1 ? 503 : 204).end(); // the first attempt fails: retried, same id
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => target.close(() => resolve())));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
    await runner(h).registerEvents(
      'forward-events',
      '*',
      createForwardHandler({ url, secret: generateForwardSecret() }),
    );
    const { callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    const event = aceNotification('rec-h3', '2026-11-26T10:00:00Z', 's');
    await notify(h, callbackUrl, verificationToken, event);
    await waitFor(() => seen.length === 2);
    expect(seen.map((s) => s.headers['webhook-id'])).toEqual([`jh_${event.uuid}`, `jh_${event.uuid}`]);
    expect(seen[1]!.headers['x-jobhook-event']).toBe(PBX_EVENT);
    expect(JSON.parse(seen[1]!.body)).toEqual(event);
  });
});

describe('--forward-to (registerForwarding)', () => {
  it('forwards other events once, each ACE version once (not its event too), and no renewal reminder', async () => {
    harness = await startHarness(tempDbPath());
    const h = harness;
    const seen: IncomingHttpHeaders[] = [];
    const target = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => target.close(() => resolve())));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
    await registerForwarding(runner(h), { url, secret: generateForwardSecret() });
    const { callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    const presence = {
      ...aceNotification('x', 'x', 'x'),
      event: '/restapi/v1.0/account/1/extension/2/presence',
      body: {},
    };
    const reminder = {
      ...aceNotification('x', 'x', 'x'),
      event: '/restapi/v1.0/subscription/~?threshold=60&interval=15',
      body: { expiresIn: 50 },
    };
    await notify(h, callbackUrl, verificationToken, aceNotification('rec-f1', '2026-11-26T10:00:00Z', 'a'));
    await notify(h, callbackUrl, verificationToken, presence);
    await notify(h, callbackUrl, verificationToken, reminder);
    await waitFor(() => seen.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing else comes
    expect(seen.map((s) => s['x-jobhook-event'] ?? s['x-jobhook-insights']).sort()).toEqual([
      '/restapi/v1.0/account/1/extension/2/presence',
      'pbx/rec-f1',
    ]);
  });
});

describe('jobhook.onEvent / onInsights', () => {
  it('register durable handlers by filter and domain, and refuse a wrong domain or filter', async () => {
    loop = await startLoop(tempDbPath(), {}, { handlers: { backoffMs: 20, pollMs: 20 } });
    const { jobhook, harness: h } = loop;
    await expect(jobhook.onInsights('phone', () => undefined)).rejects.toMatchObject({
      code: 'JH_ERR_INVALID_ARGUMENT',
    });
    await expect(jobhook.onEvent('presence', () => undefined)).rejects.toMatchObject({
      code: 'JH_ERR_INVALID_ARGUMENT',
    });
    const ids: string[] = [];
    const records: string[] = [];
    await jobhook.onEvent('/ai/ringsense/v1/public/accounts/~/domains/pbx/insights', (e) => void ids.push(e.uuid));
    await jobhook.onInsights('*', (i) => void records.push(i.sourceRecordId));
    const { callbackUrl, verificationToken } = await h.mint({ kind: 'subscription' });
    const event = aceNotification('rec-j1', '2026-11-26T10:00:00Z', 's');
    // Waiting first: the record does not exist yet; the webhook's indexing wakes the waiter.
    const awaited = jobhook.insights({ domain: 'pbx', sourceRecordId: 'rec-j1', timeoutMs: 5000 });
    await expect(jobhook.insights({ domain: 'pbx', sourceRecordId: 'never', timeoutMs: 100 })).rejects.toMatchObject({
      code: 'JH_ERR_TIMEOUT',
    });
    await notify(h, callbackUrl, verificationToken, event);
    const { record, insights } = await awaited;
    expect(record).toMatchObject({ domain: 'pbx', sourceRecordId: 'rec-j1', source: 'webhook' });
    expect(insights.insights.Summary).toEqual([{ value: 's', start: 0, end: 1 }]);
    await waitFor(() => ids.length === 1 && records.length === 1);
    expect(ids).toEqual([event.uuid]);
    expect(records).toEqual(['rec-j1']);
  });
});
