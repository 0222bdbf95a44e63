import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfterMs, RateGate } from '../../src/client/rate-gate.js';
import type { PlatformAnswer } from '../../src/ringcentral/platform.js';

const answer = (status: number, headers: Record<string, string>): PlatformAnswer => ({
  status,
  headers: new Headers(headers),
  body: Buffer.alloc(0),
  text: '',
});

const gates: RateGate[] = [];
afterEach(() => {
  for (const gate of gates.splice(0)) gate.close();
});

/** How long a gate with default bounds holds calls back after `observed`. */
async function holdAfter(observed: PlatformAnswer): Promise<number> {
  const gate = new RateGate();
  gates.push(gate);
  const before = Date.now();
  await gate.run(() => Promise.resolve(observed));
  return gate.blockedUntilMs === 0 ? 0 : gate.blockedUntilMs - before;
}

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it('reads delta-seconds and the three HTTP-date forms', () => {
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs(' 12 ', now)).toBe(12_000);
    expect(parseRetryAfterMs('Thu, 26 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Thursday, 26-Nov-26 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Thu Nov 26 12:00:30 2026', now)).toBe(30_000);
    expect(parseRetryAfterMs('Thu, 26 Nov 2026 11:59:00 GMT', now)).toBe(-60_000);
  });

  it('refuses what neither grammar allows', () => {
    for (const value of [null, '', '-1', '1.5', '1e3', 'soon', '0x10', '2026-11-26T12:00:30Z', 'Thu, 26 Nov 2026']) {
      expect(parseRetryAfterMs(value, now), String(value)).toBeNull();
    }
  });
});

describe('RateGate holds (defaults: floor 1 s, ceiling 10 minutes)', () => {
  it('clamps Retry-After into [1 s, 10 min] and falls back to 30 s for garbage', async () => {
    const within = (ms: number, low: number, high: number): void => {
      expect(ms).toBeGreaterThanOrEqual(low);
      // The hold is measured from before the call; the gate computes it a few ms later.
      expect(ms).toBeLessThanOrEqual(high + 50);
    };
    within(await holdAfter(answer(429, { 'retry-after': '0' })), 900, 1000);
    within(await holdAfter(answer(429, { 'retry-after': '-1' })), 29_900, 30_000);
    within(await holdAfter(answer(429, { 'retry-after': 'soon' })), 29_900, 30_000);
    within(await holdAfter(answer(429, {})), 29_900, 30_000);
    within(await holdAfter(answer(429, { 'retry-after': '99999999' })), 599_900, 600_000);
    within(await holdAfter(answer(429, { 'retry-after': '9'.repeat(400) })), 599_900, 600_000);
    within(await holdAfter(answer(429, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() })), 900, 1000);
    within(await holdAfter(answer(429, { 'retry-after': '7' })), 6900, 7000);
  });

  it('treats X-Rate-Limit-Window the same way, and only an exact Remaining of 0 as exhausted', async () => {
    expect(await holdAfter(answer(200, { 'x-rate-limit-remaining': '0', 'x-rate-limit-window': '0' }))).toBeGreaterThan(
      900,
    );
    const garbage = await holdAfter(answer(200, { 'x-rate-limit-remaining': '0', 'x-rate-limit-window': '-5' }));
    expect(garbage).toBeGreaterThan(59_900);
    expect(await holdAfter(answer(200, { 'x-rate-limit-remaining': '', 'x-rate-limit-window': '60' }))).toBe(0);
    expect(await holdAfter(answer(200, { 'x-rate-limit-remaining': '3', 'x-rate-limit-window': '60' }))).toBe(0);
  });
});
