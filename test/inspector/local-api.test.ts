import { afterEach, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../src/inspector/local-api.js';
import { BARE_PUNCTUATE, sttEnvelope } from '../helpers/fixtures.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

const JSON_TYPE = { 'content-type': 'application/json' };
let harness: Harness;
let api: LocalApi;
let base: string;

async function start(): Promise<void> {
  harness = await startHarness(tempDbPath());
  api = createLocalApi({ store: harness.store, mint: harness.mint });
  base = `http://127.0.0.1:${(await api.listen(0, '127.0.0.1')).port}`;
}

afterEach(async () => {
  await api.close();
  await harness.close();
});

describe('local JSON API', () => {
  it('mints, lists and shows a request by request ID and by jobId, with bodies as text or base64', async () => {
    await start();
    const minted = await fetch(`${base}/api/mint`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: '{"api":"/ai/text/v1/async/punctuate"}',
    });
    expect(minted.status).toBe(201);
    const { requestId, callbackUrl } = (await minted.json()) as { requestId: string; callbackUrl: string };
    expect(callbackUrl).toContain(`/webhooks/${requestId}/`);

    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('job-api')))).toBe(200);
    expect(await post(callbackUrl, Buffer.from([0xc3, 0x28, 0x00]))).toBe(200);
    await waitFor(async () => (await harness.store.findRequest('job-api'))?.state === 'succeeded');

    const list = (await (await fetch(`${base}/api/requests?state=succeeded`)).json()) as {
      requests: { requestId: string; deliveryCount: number }[];
    };
    expect(list.requests).toEqual([expect.objectContaining({ requestId, deliveryCount: 2 })]);

    for (const id of [requestId, 'job-api']) {
      const detail = (await (await fetch(`${base}/api/requests/${id}`)).json()) as {
        request: { requestId: string; api: string };
        deliveries: { bodyText: string | null; bodyBase64: string | null; headers: [string, string][] }[];
      };
      expect(detail.request).toMatchObject({ requestId, api: '/ai/text/v1/async/punctuate' });
      expect(detail.deliveries[0]!.bodyText).toBe(JSON.stringify(sttEnvelope('job-api')));
      expect(detail.deliveries[0]!.headers).toContainEqual(['content-type', 'application/json']);
      expect(detail.deliveries[1]).toMatchObject({
        bodyText: null,
        bodyBase64: Buffer.from([0xc3, 0x28, 0x00]).toString('base64'),
      });
    }
  });

  it('answers bad input with 400 and unknown routes or ids with 404', async () => {
    await start();
    expect((await fetch(`${base}/api/requests?state=done`)).status).toBe(400);
    expect((await fetch(`${base}/api/requests?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/api/requests/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/mint`, { method: 'POST', headers: JSON_TYPE, body: '[1]' })).status).toBe(400);
    expect(
      (await fetch(`${base}/api/mint`, { method: 'POST', headers: JSON_TYPE, body: '{"kind":"other"}' })).status,
    ).toBe(400);
    expect((await fetch(`${base}/webhooks`)).status).toBe(404);
  });
});

describe('local JSON API: display states, detail and refusals (issue #10)', () => {
  it('filters by display state: a refused submission is rejected, a cut-off one unknown, never pending', async () => {
    await start();
    const rejected = await harness.mint({ kind: 'job', api: '/ai/audio/v1/async/speech-to-text' });
    await harness.store.updateSubmission(rejected.requestId, { state: 'rejected', error: 'CAI-101: bad uri' });
    const cut = await harness.mint({ kind: 'job' });
    await harness.store.updateSubmission(cut.requestId, { state: 'unknown', error: 'socket hang up' });
    const waiting = await harness.mint({ kind: 'job' });
    const list = async (query: string) =>
      (
        (await (await fetch(`${base}/api/requests${query}`)).json()) as {
          requests: { requestId: string; displayState: string; deadLettered: boolean; submitError: string | null }[];
        }
      ).requests;
    expect(await list('?state=rejected')).toEqual([
      expect.objectContaining({
        requestId: rejected.requestId,
        displayState: 'rejected',
        deadLettered: false,
        submitError: 'CAI-101: bad uri',
      }),
    ]);
    expect((await list('?state=unknown')).map((r) => r.requestId)).toEqual([cut.requestId]);
    expect((await list('?state=pending')).map((r) => r.requestId)).toEqual([waiting.requestId]);
    const detail = (await (await fetch(`${base}/api/requests/${rejected.requestId}`)).json()) as {
      displayState: string;
      exportFormats: string[];
      timeline: { kind: string; error?: string }[];
    };
    expect(detail.displayState).toBe('rejected');
    expect(detail.exportFormats).toEqual([]);
    expect(detail.timeline).toEqual([
      expect.objectContaining({ kind: 'minted' }),
      expect.objectContaining({ kind: 'submitted', error: 'CAI-101: bad uri' }),
    ]);
    const refused = await fetch(`${base}/api/requests?state=dead-lettered`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('rejected, unknown');
  });

  it('offers only the exports a result can be built in, and lists further jobs on the same URL', async () => {
    await start();
    const { requestId, callbackUrl } = await harness.mint({ kind: 'job', api: '/ai/text/v1/async/punctuate' });
    const punctuated = { ...BARE_PUNCTUATE, jobId: 'job-punct', api: '/ai/text/v1/async/punctuate' };
    expect(await post(callbackUrl, JSON.stringify(punctuated))).toBe(200);
    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('job-other')))).toBe(200);
    const child = await waitFor(async () => {
      const r = await harness.store.findRequest('job-other');
      return r?.state === 'succeeded' && r;
    });
    await waitFor(async () => (await harness.store.findRequest(requestId))?.state === 'succeeded');
    const detail = (await (await fetch(`${base}/api/requests/${requestId}`)).json()) as {
      exportFormats: string[];
      jobsOnUrl: { requestId: string; jobId: string; displayState: string }[];
    };
    expect(detail.exportFormats).toEqual(['json']);
    expect((await fetch(`${base}/api/requests/${requestId}/export.txt`)).status).toBe(422);
    expect(detail.jobsOnUrl).toEqual([
      expect.objectContaining({ requestId: child.requestId, jobId: 'job-other', displayState: 'succeeded' }),
    ]);
    const childDetail = (await (await fetch(`${base}/api/requests/job-other`)).json()) as {
      request: { parentRequestId: string };
      exportFormats: string[];
    };
    expect(childDetail.request.parentRequestId).toBe(requestId);
    expect(childDetail.exportFormats).toEqual(['json', 'txt', 'srt', 'vtt']);
  });

  it("serves the receiver's refusals with a hint per reason, and an empty list without a receiver", async () => {
    await start();
    const none = (await (await fetch(`${base}/api/refusals`)).json()) as { available: boolean; refusals: unknown[] };
    expect(none).toEqual({ available: false, refusals: [] });
    await api.close();
    api = createLocalApi({
      store: harness.store,
      mint: harness.mint,
      refusals: () => harness.receiver.refusals.recent(),
    });
    base = `http://127.0.0.1:${(await api.listen(0, '127.0.0.1')).port}`;
    expect(await post(`${harness.baseUrl}/webhook?secret=x`, '{}')).toBe(404);
    const wrongTag = `${harness.baseUrl}/webhooks/01a2b3c4-0000-7000-8000-000000000000/AAAAAAAAAAAAAAAAAAAAAA`;
    expect(await post(wrongTag, '{}')).toBe(404);
    const body = (await (await fetch(`${base}/api/refusals`)).json()) as {
      available: boolean;
      refusals: { method: string; path: string; reason: string; status: number | null; hint: string }[];
    };
    expect(body.available).toBe(true);
    expect(body.refusals).toEqual([
      expect.objectContaining({
        method: 'POST',
        reason: 'bad-tag',
        status: 404,
        hint: expect.stringContaining('--db'),
      }),
      expect.objectContaining({ path: '/webhook', reason: 'unknown-path', hint: expect.stringContaining('--accept') }),
    ]);
    expect(JSON.stringify(body)).not.toContain('AAAAAAAAAAAAAAAAAAAAAA');
  });
});

describe('local listener security', () => {
  it('requires the token on every page and API request when one is set, and sends a strict CSP', async () => {
    harness = await startHarness(tempDbPath());
    api = createLocalApi({ store: harness.store, mint: harness.mint, token: 's3cret-token' });
    base = `http://127.0.0.1:${(await api.listen(0, '127.0.0.1')).port}`;
    for (const path of ['/', '/app.js', '/api/requests', '/api/events']) {
      const denied = await fetch(`${base}${path}`);
      expect(denied.status, path).toBe(401);
      await denied.arrayBuffer();
    }
    expect((await fetch(`${base}/api/requests?token=wrong`)).status).toBe(401);
    const page = await fetch(`${base}/?token=s3cret-token`);
    expect(page.status).toBe(200);
    // The page's own scripts and stylesheet are behind the token too: the page must name them with it.
    const html = await page.text();
    expect(html).toContain('<script src="/app.js?token=s3cret-token" defer>');
    for (const asset of html.matchAll(/(?:src|href)="(\/[a-z]+\.(?:js|css)[^"]*)"/g)) {
      const loaded = await fetch(`${base}${asset[1]!}`);
      expect(loaded.status, asset[1]).toBe(200);
      await loaded.arrayBuffer();
    }
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const listed = await fetch(`${base}/api/requests`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(listed.status).toBe(200);
  });

  it('refuses to bind beyond loopback without a token', async () => {
    harness = await startHarness(tempDbPath());
    api = createLocalApi({ store: harness.store, mint: harness.mint });
    const { parseInvocation } = await import('../../src/config.js');
    expect(() => parseInvocation(['serve', '--local-host', '0.0.0.0'], {})).toThrow(/--local-token/);
    expect(parseInvocation(['serve', '--local-host', '0.0.0.0', '--local-token', 't'], {}).config.localToken).toBe('t');
  });
});
