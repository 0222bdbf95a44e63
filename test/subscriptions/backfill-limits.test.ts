import { describe, expect, it } from 'vitest';
import { isJobhookError } from '../../src/errors.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { backfillRecord, backfillWindow } from '../../src/subscriptions/backfill.js';
import { startBackfillFixture } from './backfill-fixture.js';

/**
 * The backfill's reads within the platform's limits: ACE reads are in the Light group (50 per 60 s by
 * default), taken from the store's shared budget; a 429 is waited out, `Retry-After: 0` included, and
 * told to every process through the budget; retries are bounded.
 */
const LIGHT_ONLY_TWO = { limit: 2, windowMs: 60_000, penaltyMs: 0 }; // penalty 0: every refusal says Retry-After: 0

describe('backfill rate limits', () => {
  it('does not hammer on 429 Retry-After: 0: bounded attempts, spaced by the minimum wait', async () => {
    const f = await startBackfillFixture({ subscriptions: { lightRateLimit: LIGHT_ONLY_TWO } });
    for (let i = 0; i < 4; i++) await f.simulate('pbx');
    await f.published();
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 1000,
      toMs: Date.now(),
      budget: null,
      read: { attempts: 2, minWaitMs: 150 },
      index: deliveryRules,
    });
    expect(report).toMatchObject({ records: 4, stored: 2, failed: 2, notReady: 0 });
    const reads = f.aceReads();
    expect(reads.map((r) => r.status)).toEqual([200, 200, 429, 429, 429, 429]);
    // Each refused record: its second attempt no sooner than the minimum wait after the first.
    expect(reads[3]!.atMs - reads[2]!.atMs).toBeGreaterThanOrEqual(145);
    expect(reads[5]!.atMs - reads[4]!.atMs).toBeGreaterThanOrEqual(145);
    // What the platform said, to be sure the case is the one named.
    const raw = await fetch(`${f.base}${reads[2]!.path}`, {
      headers: { authorization: `Bearer ${await tokenOf(f.base)}` },
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('0');
    expect(await f.store.listInsights()).toHaveLength(2);
  });

  it('tells every process sharing the budget to hold after a 429', async () => {
    const f = await startBackfillFixture({ subscriptions: { lightRateLimit: LIGHT_ONLY_TWO } });
    const calls = [await f.simulate('pbx'), await f.simulate('pbx'), await f.simulate('pbx')];
    await f.published();
    const budget = { key: 'heavy:shared-test', light: { capacity: 50, windowMs: 60_000 } };
    // Another app's reads (no budget here) use up the emulator's limit of 2.
    for (const call of calls.slice(0, 2)) {
      const stored = await backfillRecord({
        platform: f.platform,
        store: f.store,
        domain: 'pbx',
        ...call,
        budget: null,
      });
      expect(stored).not.toBe(null);
    }
    const error = await backfillRecord({
      platform: f.platform,
      store: f.store,
      domain: 'pbx',
      ...calls[2]!,
      budget,
      read: { attempts: 1, minWaitMs: 5000 },
    }).catch((e: unknown) => e);
    expect(isJobhookError(error, 'JH_ERR_PLATFORM_UNREACHABLE')).toBe(true);
    expect(f.aceReads().map((r) => r.status)).toEqual([200, 200, 429]);
    // Another process asking the same Light budget now is told to wait out the hold.
    const waitMs = await f.store.takeRateToken('light:shared-test', { capacity: 50, windowMs: 60_000 });
    expect(waitMs).toBeGreaterThan(4000);
    // The Heavy budget of the same app and user is another group: untouched.
    expect(await f.store.takeRateToken('heavy:shared-test', { capacity: 10, windowMs: 60_000 })).toBe(0);
  });

  it('adopts the limit and window the platform states, and so meets no 429', async () => {
    const f = await startBackfillFixture({
      subscriptions: { lightRateLimit: { limit: 2, windowMs: 1000, penaltyMs: 1000 } },
    });
    for (let i = 0; i < 4; i++) await f.simulate('pbx');
    await f.published();
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 1000,
      toMs: Date.now(),
      budget: { key: 'heavy:adopt-test' }, // RingCentral's default Light limit: 50 a minute
      index: deliveryRules,
    });
    expect(report).toMatchObject({ records: 4, stored: 4, failed: 0 });
    expect(f.aceReads().map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('keeps ACE reads within the configured Light budget', async () => {
    const f = await startBackfillFixture();
    for (let i = 0; i < 5; i++) await f.simulate('pbx');
    await f.published();
    const windowMs = 400;
    const report = await backfillWindow({
      platform: f.platform,
      store: f.store,
      domains: ['pbx'],
      fromMs: Date.now() - 1000,
      toMs: Date.now(),
      budget: { key: 'heavy:light-test', light: { capacity: 2, windowMs } },
      index: deliveryRules,
    });
    expect(report).toMatchObject({ records: 5, stored: 5 });
    const at = f.aceReads().map((r) => r.atMs);
    expect(at).toHaveLength(5);
    // No window of `windowMs` holds more than 2 reads: any third read is a window after the first.
    for (let i = 0; i + 2 < at.length; i++) expect(at[i + 2]! - at[i]!).toBeGreaterThanOrEqual(windowMs);
    // The call log read took a Heavy grant of the same app and user.
    expect(f.gets.filter((g) => g.path.includes('/call-log'))).toHaveLength(1);
  });
});

async function tokenOf(base: string): Promise<string> {
  const { fakeJwt } = await import('../helpers/webhook-sink.js');
  const response = await fetch(`${base}/restapi/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('id:secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: fakeJwt() }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
