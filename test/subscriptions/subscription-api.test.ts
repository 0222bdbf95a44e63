import { describe, expect, it } from 'vitest';
import { aceDomainsOf, aceFilters, defaultSubscriptionName, sameAddress } from '../../src/subscriptions/filters.js';
import {
  clampExpiresIn,
  parseSubscriptionInfo,
  subscriptionError,
  SubscriptionRejectedError,
} from '../../src/subscriptions/subscription-api.js';
import type { PlatformAnswer } from '../../src/ringcentral/platform.js';
import { platformError } from '../../src/ringcentral/platform-error.js';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformAnswer => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers: new Headers(headers), body: Buffer.from(text), text };
};

describe('the subscription API helpers', () => {
  it('parse SubscriptionInfo permissively: an open status, disabled filters, blacklistedData kept', () => {
    const info = parseSubscriptionInfo({
      id: 'a1',
      status: 'Suspended',
      eventFilters: ['/x', 7],
      disabledFilters: [{ filter: '/x', reason: 'Permission', extra: true }, 'junk'],
      expirationTime: '2036-01-01T00:00:00Z',
      expiresIn: 10,
      deliveryMode: { transportType: 'WebHook', address: 'https://h/p' },
      blacklistedData: { blacklistedAt: '2026-01-01T00:00:00Z', reason: 'Read timed out' },
      somethingNew: 1,
    });
    expect(info).toMatchObject({
      id: 'a1',
      status: 'Suspended',
      eventFilters: ['/x'],
      disabledFilters: [{ filter: '/x', reason: 'Permission', extra: true }],
      address: 'https://h/p',
      blacklistedData: { reason: 'Read timed out' },
    });
    expect(info.raw.somethingNew).toBe(1);
    expect(parseSubscriptionInfo({ id: 'b' })).toMatchObject({ status: 'Unknown', eventFilters: [], address: null });
    expect(() => parseSubscriptionInfo({ status: 'Active' })).toThrow(/without an id/);
  });

  it('map refusals to the platform code and the fix; 429 and 5xx to try later', () => {
    const refused = subscriptionError(
      'creating the subscription',
      answer(400, platformError('SUB-525', 'WebHook server response is invalid')),
    );
    expect(refused).toBeInstanceOf(SubscriptionRejectedError);
    expect(refused).toMatchObject({ code: 'JH_ERR_API_REJECTED', errorCode: 'SUB-525', status: 400 });
    expect(refused.message).toMatch(/^creating the subscription: the API answered 400 SUB-525: .*over 1024 bytes/);
    expect(subscriptionError('x', answer(403, { errorCode: 'SUB-406', message: 'no' })).message).toContain(
      'SubscriptionWebhook scope',
    );
    const limited = subscriptionError('x', answer(429, { errorCode: 'CMN-301' }, { 'retry-after': '30' }));
    expect(limited).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE' });
    expect(limited.message).toContain('Retry-After 30 s');
    expect(subscriptionError('x', answer(503, 'down'))).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE' });
  });

  it('clamp expiresIn to whole seconds between 1 and the maximum', () => {
    expect(clampExpiresIn(630_720_000)).toBe(315_360_000);
    expect(clampExpiresIn(3600.7)).toBe(3600);
    expect(clampExpiresIn(0)).toBe(1);
    expect(clampExpiresIn(10_000, 5000)).toBe(5000);
  });

  it('name subscriptions from their filters and pick ACE domains', () => {
    expect(defaultSubscriptionName(['/restapi/v1.0/account/~/telephony/sessions'])).toBe('telephony-sessions');
    expect(
      defaultSubscriptionName([
        '/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true',
        '/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS',
        '/ai/ringsense/v1/public/accounts/~/domains/rcv/insights',
      ]),
    ).toBe('presence+message-store-instant+ace-rcv');
    const many = Array.from({ length: 12 }, (_, i) => `/restapi/v1.0/account/~/extension/${100 + i}/thing-${i}`);
    const name = defaultSubscriptionName(many);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/\+\d+-more$/);
    expect(aceFilters(['rcv', 'pbx', 'rcv'])).toEqual([
      '/ai/ringsense/v1/public/accounts/~/domains/rcv/insights',
      '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights',
    ]);
    expect(aceFilters(null)).toHaveLength(5);
    expect(() => aceFilters(['phone'])).toThrow(/phone is not an ACE domain; use one or more of pbx, rcv/);
    expect(aceDomainsOf([...aceFilters(['ms-teams', 'pbx']), '/restapi/v1.0/account/~/presence'])).toEqual([
      'pbx',
      'ms-teams',
    ]);
  });

  it('compare addresses as URLs, as the platform may echo them normalised', () => {
    expect(sameAddress('https://ABC.ngrok.app:443/webhooks/x/y', 'https://abc.ngrok.app/webhooks/x/y')).toBe(true);
    expect(sameAddress('https://a.example/webhooks/x/y', 'https://b.example/webhooks/x/y')).toBe(false);
    expect(sameAddress(null, null)).toBe(true);
    expect(sameAddress('https://a.example/x', null)).toBe(false);
  });
});
