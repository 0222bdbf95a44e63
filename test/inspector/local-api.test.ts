import { afterEach, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../src/inspector/local-api.js';
import { sttEnvelope } from '../helpers/fixtures.js';
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
    expect(await page.text()).toContain('<script src="/app.js" defer>');
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
