import { afterEach, describe, expect, it } from 'vitest';
import { verificationTokenFor } from '../../src/callback/verification-token.js';
import { startLocalApi, type LocalApiHarness } from '../helpers/local-api-harness.js';
import { post } from '../helpers/receiver-harness.js';

/**
 * `POST /api/mint` with `{"kind": "subscription"}` (toward issue #12): a push-notification address and the
 * verification token to create the subscription with, both accepted by the real receiver beside it.
 */
let local: LocalApiHarness | undefined;
afterEach(async () => {
  await local?.close();
  local = undefined;
});

const JSON_TYPE = { 'content-type': 'application/json' };

const EVENT = JSON.stringify({
  uuid: '4130446572007716222',
  event: '/ai/ringsense/v1/public/accounts/809646016/domains/pbx/insights',
  timestamp: '2025-01-08T10:00:00.000Z',
  subscriptionId: 'b7d4e3a0-0000-4000-8000-000000000001',
  ownerId: '809646016',
  body: { domain: 'pbx', sourceRecordId: 'rec-1', insights: {} },
});

async function mint(body?: string): Promise<{ status: number; value: Record<string, unknown> }> {
  local ??= await startLocalApi();
  const response = await fetch(`http://127.0.0.1:${local.port}/api/mint`, {
    method: 'POST',
    headers: JSON_TYPE,
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, value: (await response.json()) as Record<string, unknown> };
}

describe('local API: POST /api/mint with a kind', () => {
  it('mints a subscription URL with its verification token; the receiver takes notifications only with it', async () => {
    const { status, value } = await mint('{"kind":"subscription"}');
    expect(status).toBe(201);
    expect(value).toEqual({
      requestId: expect.any(String),
      callbackUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\//),
      verificationToken: expect.stringMatching(/^[\w-]{32}$/),
    });
    const requestId = value.requestId as string;
    const callbackUrl = value.callbackUrl as string;
    // The token answered is the one the receiver derives, and it is recorded as a subscription.
    expect(value.verificationToken).toBe(verificationTokenFor(local!.harness.keyring, requestId));
    expect(await local!.harness.store.findRequest(requestId)).toMatchObject({ kind: 'subscription' });

    expect(await post(callbackUrl, EVENT)).toBe(403);
    expect(await post(callbackUrl, EVENT, { 'verification-token': 'not-the-token' })).toBe(403);
    expect(await post(callbackUrl, EVENT, { 'verification-token': value.verificationToken as string })).toBe(200);
    expect(await local!.harness.store.listDeliveries(requestId)).toHaveLength(1);
  });

  it('mints a job URL, without a token, for no body, {} and {"kind":"job"}', async () => {
    for (const body of [undefined, '{}', '{"kind":"job"}']) {
      const { status, value } = await mint(body);
      expect(status, String(body)).toBe(201);
      expect(Object.keys(value).sort(), String(body)).toEqual(['callbackUrl', 'requestId']);
      expect(await local!.harness.store.findRequest(value.requestId as string)).toMatchObject({ kind: 'job' });
    }
  });

  it('refuses another kind with 400 naming the allowed ones, and records nothing', async () => {
    local = await startLocalApi();
    const before = (await local.harness.store.listRequests({ limit: 1000 })).length;
    for (const body of ['{"kind":"Subscription"}', '{"kind":"webhook"}', '{"kind":1}']) {
      const { status, value } = await mint(body);
      expect(status, body).toBe(400);
      expect(value, body).toEqual({ error: { message: 'kind must be "job" or "subscription"' } });
    }
    expect(await local.harness.store.listRequests({ limit: 1000 })).toHaveLength(before);
  });

  it('still refuses a mint that is not application/json (the hostile-origin rule holds for every kind)', async () => {
    local = await startLocalApi();
    const response = await fetch(`http://127.0.0.1:${local.port}/api/mint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"kind":"subscription"}',
    });
    expect(response.status).toBe(415);
  });
});
