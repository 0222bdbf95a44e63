import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptedRequestId, normalizeAcceptPaths } from '../../src/callback/accepted-path.js';
import { createKeyring, callbackUrl, generateSecret } from '../../src/callback/callback-url.js';
import { newRequestId } from '../../src/callback/request-id.js';
import { createRefusalLog, redactPath } from '../../src/receiver/refusals.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const settledRequest = async (h: Harness, jobId: string) =>
  waitFor(async () => {
    const request = await h.store.findRequest(jobId);
    return request?.state === 'succeeded' && request;
  });

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as never);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('several jobs on one callback URL', () => {
  it('gives each jobId its own request, found by show <jobId>, settling on its own', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl: url } = await harness.mint();
    expect(await post(url, JSON.stringify(sttEnvelope('job-a')))).toBe(200);
    expect(await post(url, JSON.stringify(sttEnvelope('job-b')))).toBe(200);
    expect(await post(url, JSON.stringify(sttEnvelope('job-b')))).toBe(200); // a redelivery of job b

    const a = await settledRequest(harness, 'job-a');
    const b = await settledRequest(harness, 'job-b');
    expect(a.requestId).toBe(requestId);
    expect(b.requestId).not.toBe(requestId);
    expect(b).toMatchObject({ parentRequestId: requestId, callbackUrl: url, origin: 'minted', jobId: 'job-b' });
    // The redelivery of job b arrives on the URL's request and is folded into job b's delivery.
    const bDeliveries = await waitFor(async () => {
      const list = await harness!.store.listDeliveries(b.requestId);
      return list[0]?.count === 2 && list;
    });
    expect(bDeliveries).toHaveLength(1);
    expect((await harness.store.listDeliveries(requestId)).map((d) => d.envelope?.jobId)).toEqual(['job-a']);
    expect((await harness.store.listRequests({ parentRequestId: requestId })).map((r) => r.jobId)).toEqual(['job-b']);
  });
});

describe('--accept: the guide’s fixed callback paths', () => {
  it('stores deliveries at /webhook and below, unverified, one request per path, each job findable', async () => {
    harness = await startHarness(tempDbPath(), {
      acceptPaths: normalizeAcceptPaths(['/webhook', 'conversations/webhooks/']),
    });
    const base = harness.baseUrl;
    expect(await post(`${base}/webhook`, JSON.stringify(sttEnvelope('guide-1')))).toBe(200);
    expect(await post(`${base}/webhook?source=guide`, JSON.stringify(sttEnvelope('guide-2')))).toBe(200);
    expect(await post(`${base}/conversations/webhooks/1234567890`, JSON.stringify(sttEnvelope('guide-3')))).toBe(200);

    const one = await settledRequest(harness, 'guide-1');
    expect(one).toMatchObject({
      origin: 'accepted',
      callbackUrl: '/webhook',
      requestId: acceptedRequestId('/webhook'),
    });
    const two = await settledRequest(harness, 'guide-2');
    expect(two).toMatchObject({ origin: 'accepted', parentRequestId: one.requestId });
    const three = await settledRequest(harness, 'guide-3');
    expect(three).toMatchObject({ origin: 'accepted', callbackUrl: '/conversations/webhooks/1234567890' });
    const [delivery] = await harness.store.listDeliveries(three.requestId);
    expect(delivery!.envelope?.status).toBe('Success');
  });

  it('never lets an accepted (unverified) delivery settle a minted request with the same jobId', async () => {
    harness = await startHarness(tempDbPath(), { acceptPaths: ['/webhook'] });
    const minted = await harness.mint();
    await harness.store.updateSubmission(minted.requestId, { state: 'accepted', jobId: 'job-x' });
    expect(await post(`${harness.baseUrl}/webhook`, JSON.stringify(sttEnvelope('job-x')))).toBe(200);
    await waitFor(async () => (await harness!.store.findRequest(acceptedRequestId('/webhook')))?.state === 'succeeded');
    expect((await harness.store.findRequest(minted.requestId))!.state).toBe('pending');
    // …nor shadow it: looking the jobId up finds the minted request, not the later unverified one.
    expect((await harness.store.findRequest('job-x'))!.requestId).toBe(minted.requestId);
  });

  it('refuses other paths and methods, and nothing is stored', async () => {
    harness = await startHarness(tempDbPath(), { acceptPaths: ['/webhook'] });
    expect(await post(`${harness.baseUrl}/webhookx`, '{}')).toBe(404);
    expect((await fetch(`${harness.baseUrl}/webhook`)).status).toBe(404);
    expect(harness.counts().deliveries).toBe(0);
  });
});

describe('refused deliveries leave a trace', () => {
  it('logs each at debug and a periodic warning by reason with a redacted example and a hint', async () => {
    const { logger, lines } = capturingLogger();
    const refusals = createRefusalLog({ logger, summaryEveryMs: 200 });
    harness = await startHarness(tempDbPath(), { refusals });
    // A URL minted by another installation (another secret: another --db) has the right shape but a bad tag.
    const foreign = callbackUrl(createKeyring([generateSecret()]), harness.baseUrl, '/webhooks', newRequestId());
    expect(await post(foreign, '{}')).toBe(404);
    expect(await post(`${harness.baseUrl}/webhook?token=secret-token`, '{}')).toBe(404);
    expect(await post(`${harness.baseUrl}/webhook`, '{}')).toBe(404);

    const summary = await waitFor(() => lines.find((l) => /refused 3 webhook requests/.test(String(l.msg))));
    const refused = summary.refused as Record<string, { count: number; example: string; hint: string }>;
    expect(refused['bad-tag']).toMatchObject({ count: 1, hint: expect.stringMatching(/another database/) });
    expect(refused['bad-tag']!.example).toMatch(/^\/webhooks\/[0-9a-f-]{36}\/<tag>$/);
    expect(refused['unknown-path']).toMatchObject({
      count: 2,
      example: '/webhook',
      hint: expect.stringMatching(/--accept/),
    });
    expect(lines.filter((l) => l.msg === 'webhook request refused')).toHaveLength(3);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
    expect(JSON.stringify(lines)).not.toContain(foreign.split('/').pop());
    expect(refusals.recent()).toHaveLength(3);
    refusals.stop();
  });

  it('redacts tags and query strings from paths', () => {
    expect(redactPath('/webhooks/0190a0a0-0000-7000-8000-000000000000/AAAAAAAAAAAAAAAAAAAAAA?x=1')).toBe(
      '/webhooks/0190a0a0-0000-7000-8000-000000000000/<tag>',
    );
    expect(redactPath(`/${'a'.repeat(300)}`)).toHaveLength(201);
  });
});
