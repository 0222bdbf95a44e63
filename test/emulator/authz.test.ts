import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHarness } from '../helpers/emulator-client.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * The emulator's answers to a pre-flight (reference §12.2 and the token answer's `scope`): the user's
 * permission check through `authz-profile/check`, and the control route that takes a scope or a
 * permission away so tests can see `jobhook doctor` name the problem.
 */
let h: EmulatorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHECK = '/restapi/v1.0/account/~/extension/~/authz-profile/check';

async function token(base: string): Promise<{ access_token: string; scope: string; owner_id: string }> {
  const response = await fetch(`${base}/restapi/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('id:secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: fakeJwt() }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; scope: string; owner_id: string };
}

const check = (base: string, accessToken: string, query: string, path = CHECK): Promise<Response> =>
  fetch(`${base}${path}${query}`, { headers: { authorization: `Bearer ${accessToken}` } });

const control = (base: string, body: unknown): Promise<Response> =>
  fetch(`${base}/_emulator/authz`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('authz-profile/check and the app scopes', () => {
  it('grants ReadRingSenseInsights by default, in the documented shape, and states every scope jobhook uses', async () => {
    h = await startEmulator();
    const login = await token(h.base);
    expect(login.scope.split(' ').sort()).toEqual(['AI', 'RingSense', 'SubscriptionWebhook']);
    const answer = await check(h.base, login.access_token, '?permissionId=ReadRingSenseInsights');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      uri: expect.stringContaining(`/extension/${login.owner_id}/authz-profile/check`),
      successful: true,
      details: {
        permission: { id: 'ReadRingSenseInsights' },
        effectiveRole: { id: expect.any(String) },
        scopes: ['AllExtensions'],
      },
    });
    // The caller's own extension by id works as `~` does; another extension is not the caller's to check.
    const own = `/restapi/v1.0/account/~/extension/${login.owner_id}/authz-profile/check`;
    expect((await check(h.base, login.access_token, '?permissionId=ReadRingSenseInsights', own)).status).toBe(200);
    const other = '/restapi/v1.0/account/~/extension/1/authz-profile/check';
    expect((await check(h.base, login.access_token, '?permissionId=ReadRingSenseInsights', other)).status).toBe(404);
  });

  it('answers successful: false for a permission the user lacks; 401 without a token, 400 without permissionId', async () => {
    h = await startEmulator();
    const { access_token: accessToken } = await token(h.base);
    const lacking = await check(h.base, accessToken, '?permissionId=EditAccounts');
    expect(lacking.status).toBe(200);
    expect(await lacking.json()).toMatchObject({ successful: false, details: { permission: { id: 'EditAccounts' } } });
    expect((await fetch(`${h.base}${CHECK}?permissionId=ReadRingSenseInsights`)).status).toBe(401);
    const missing = await check(h.base, accessToken, '');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ errorCode: 'CMN-101', parameterName: 'permissionId' });
  });

  it('takes a permission or a scope away through /_emulator/authz (new tokens only); reset restores them', async () => {
    h = await startEmulator();
    const before = await token(h.base);
    const changed = await control(h.base, { permissions: [], scopes: ['AI', 'SubscriptionWebhook'] });
    expect(await changed.json()).toEqual({ permissions: [], scopes: ['AI', 'SubscriptionWebhook'] });
    const denied = await check(h.base, before.access_token, '?permissionId=ReadRingSenseInsights');
    expect(await denied.json()).toMatchObject({ successful: false });
    expect((await token(h.base)).scope).toBe('AI SubscriptionWebhook');

    // Only the named part changes; a malformed body changes nothing.
    await control(h.base, { permissions: ['ReadRingSenseInsights'] });
    expect((await token(h.base)).scope).toBe('AI SubscriptionWebhook');
    for (const bad of [{ scopes: 'RingSense' }, { permissions: [1] }, { scopes: ['Ring Sense'] }, []]) {
      expect((await control(h.base, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect(await (await fetch(`${h.base}/_emulator/authz`)).json()).toEqual({
      permissions: ['ReadRingSenseInsights'],
      scopes: ['AI', 'SubscriptionWebhook'],
    });

    expect((await fetch(`${h.base}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    const after = await token(h.base);
    expect(after.scope).toBe('AI RingSense SubscriptionWebhook');
    const granted = await check(h.base, after.access_token, '?permissionId=ReadRingSenseInsights');
    expect(await granted.json()).toMatchObject({ successful: true });
  });
});
