import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devCredentials } from '../../src/cli/client.js';
import { parseRetryAfterMs, RateGate, rateBudgetKey, reserveFor } from '../../src/client/rate-gate.js';
import type { PlatformAnswer } from '../../src/ringcentral/platform.js';
import { RateLimiter } from '../../src/emulator/rate-limiter.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { answer, maxInAnyWindow } from '../helpers/rate-windows.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

const LIMITS = { capacity: 10, windowMs: 60_000 };
const gates: RateGate[] = [];
let path: string;
let store: SqliteStore;
/** A second connection to the same file: what another process sees. */
let other: SqliteStore;
beforeEach(() => {
  path = tempDbPath();
  store = new SqliteStore({ path });
  other = new SqliteStore({ path });
});
afterEach(async () => {
  for (const gate of gates.splice(0)) gate.close();
  await store.close();
  await other.close();
});

let keys = 0;
/** How long a store-backed gate with default bounds holds calls back after `observed`, locally and for everyone. */
async function holdAfter(observed: PlatformAnswer): Promise<{ local: number; shared: number }> {
  const key = `heavy:test-${++keys}`;
  const gate = new RateGate({ budget: { store, key } });
  gates.push(gate);
  const before = Date.now();
  await gate.run(() => Promise.resolve(observed));
  const local = gate.blockedUntilMs === 0 ? 0 : gate.blockedUntilMs - before;
  // Another process on the database is held as long (a fresh key has 9 of 10 grants left: only a hold waits).
  const shared = await other.takeRateToken(key, LIMITS);
  return { local, shared: shared === 0 ? 0 : shared + (Date.now() - before) };
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

describe('RateGate holds (defaults: floor 1 s, ceiling 10 minutes), kept locally and in the shared budget', () => {
  const within = (ms: number, low: number, high: number, what: string): void => {
    expect(ms, what).toBeGreaterThanOrEqual(low);
    // The hold is measured from before the call; the gate computes it a few ms later.
    expect(ms, what).toBeLessThanOrEqual(high + 100);
  };

  it('clamps Retry-After into [1 s, 10 min] and falls back to 30 s for garbage', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ 'retry-after': '0' }, 1000],
      [{ 'retry-after': '-1' }, 30_000],
      [{ 'retry-after': 'soon' }, 30_000],
      [{}, 30_000],
      [{ 'retry-after': '99999999' }, 600_000],
      [{ 'retry-after': '9'.repeat(400) }, 600_000],
      [{ 'retry-after': new Date(Date.now() - 60_000).toUTCString() }, 1000],
      [{ 'retry-after': '7' }, 7000],
    ];
    for (const [headers, expected] of cases) {
      const { local, shared } = await holdAfter(answer(429, headers));
      within(local, expected - 100, expected, `local ${JSON.stringify(headers)}`);
      within(shared, expected - 100, expected, `shared ${JSON.stringify(headers)}`);
    }
  });

  it('treats X-Rate-Limit-Window the same way, and only a Remaining of 0 as exhausted', async () => {
    const floored = await holdAfter(answer(200, { 'x-rate-limit-remaining': '0', 'x-rate-limit-window': '0' }));
    within(floored.local, 900, 1000, 'window 0');
    within(floored.shared, 900, 1000, 'window 0, shared');
    const garbage = await holdAfter(answer(200, { 'x-rate-limit-remaining': '0', 'x-rate-limit-window': '-5' }));
    within(garbage.local, 59_900, 60_000, 'window -5');
    within(garbage.shared, 59_900, 60_000, 'window -5, shared');
    expect(await holdAfter(answer(200, { 'x-rate-limit-remaining': '', 'x-rate-limit-window': '60' }))).toEqual({
      local: 0,
      shared: 0,
    });
    expect(await holdAfter(answer(200, { 'x-rate-limit-remaining': '3', 'x-rate-limit-window': '60' }))).toEqual({
      local: 0,
      shared: 0,
    });
  });

  it("adopts the platform's X-Rate-Limit-Limit and -Window, ignoring malformed ones", async () => {
    const gate = new RateGate({ budget: { store, key: 'heavy:limits', limits: { capacity: 5, windowMs: 10_000 } } });
    gates.push(gate);
    await gate.run(() => Promise.resolve(answer(200, { 'x-rate-limit-limit': 'x', 'x-rate-limit-window': '-1' })));
    expect(gate.limits).toEqual({ capacity: 5, windowMs: 10_000 });
    await gate.run(() => Promise.resolve(answer(200, { 'x-rate-limit-limit': '40', 'x-rate-limit-window': '60' })));
    expect(gate.limits).toEqual({ capacity: 40, windowMs: 60_000 });
  });

  it('refuses a budget that is not a positive integer', () => {
    for (const limits of [{ capacity: 0 }, { capacity: 2.5 }, { windowMs: -1 }, { windowMs: Number.NaN }]) {
      expect(() => new RateGate({ budget: { store, key: 'k', limits } }), JSON.stringify(limits)).toThrow(
        expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
      );
    }
  });

  it('rejects queued calls on close without sending them', async () => {
    const gate = new RateGate({ budget: { store, key: 'heavy:close' }, maxInFlight: 1 });
    let sent = 0;
    const call = (): Promise<PlatformAnswer> => (sent++, Promise.resolve(answer(429, { 'retry-after': '60' })));
    await gate.run(call);
    const queued = gate.run(call);
    gate.close();
    await expect(queued).rejects.toMatchObject({ code: 'JH_ERR_STORE_CLOSED' });
    await expect(gate.run(call)).rejects.toMatchObject({ code: 'JH_ERR_STORE_CLOSED' });
    expect(sent).toBe(1);
  });
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RateGate: what reaches the platform, and in which order', () => {
  it('makes the platform ready (a 3 s login) before taking a grant: three processes never exceed the window', async () => {
    // Three processes on one budget and one platform (the emulator's limiter); A logs in for 3 s first.
    const limits = { capacity: 10, windowMs: 10_000 };
    const limiter = new RateLimiter({ limit: 10, windowMs: 10_000, penaltyMs: 10_000 });
    const arrivals: number[] = [];
    const statuses: number[] = [];
    const third = new SqliteStore({ path });
    const processOn = (budgetStore: SqliteStore, loginMs: number): (() => Promise<PlatformAnswer>) => {
      let login: Promise<void> | null = null;
      const ready = (): Promise<void> => (login ??= pause(loginMs));
      const gate = new RateGate({ budget: { store: budgetStore, key: 'heavy:login', limits }, prepare: ready });
      gates.push(gate);
      const call = async (): Promise<PlatformAnswer> => {
        await ready(); // as a platform call does: at once when ready() came first
        const at = Date.now();
        arrivals.push(at);
        const decision = limiter.check('app-user', at);
        const reply = decision.allowed
          ? answer(200, limiter.headers(decision.remaining))
          : answer(429, { 'retry-after': String(decision.retryAfterS) });
        statuses.push(reply.status);
        return reply;
      };
      return () => gate.run(call);
    };
    const [a, b, c] = [processOn(store, 3000), processOn(other, 0), processOn(third, 0)];
    try {
      const t0 = Date.now();
      const first = a();
      await pause(1000);
      await Promise.all([first, ...Array.from({ length: 8 }, () => b())]);
      // Just after a grant taken at t=0 would have left the budget's window (10 s and a 0.5 s margin).
      await pause(10_700 - (Date.now() - t0));
      await Promise.all([c(), c()]);
    } finally {
      await third.close();
    }
    expect(statuses).toEqual(Array<number>(11).fill(200));
    expect(maxInAnyWindow(arrivals, limits.windowMs)).toBeLessThanOrEqual(limits.capacity);
  }, 40_000);

  it('lets a submission go at once when it arrives while a status read asks the budget and is told to wait', async () => {
    const limits = { capacity: 10, windowMs: 60_000 };
    // Another process made 7 calls: a status read must wait (a reserve of 3), a submission may go.
    for (let i = 0; i < 7; i++) await other.takeRateToken('heavy:inversion', limits);
    const gate = new RateGate({ budget: { store, key: 'heavy:inversion', limits } });
    gates.push(gate);
    let reads = 0;
    const read = gate.run(() => (reads++, Promise.resolve(answer(200))), { low: true }).catch((e: unknown) => e);
    const submission = gate.run(() => Promise.resolve(answer(200))).then(() => 'sent');
    // Before, it waited out the read's turn: until the window (a minute) had room for the reserve too.
    expect(await Promise.race([submission, pause(5000).then(() => 'held')])).toBe('sent');
    expect(reads).toBe(0);
    expect(gate.queued).toBe(1);
    gate.close();
    expect(await read).toMatchObject({ code: 'JH_ERR_STORE_CLOSED' });
  });

  it('fails every queued call with the failed preparation, sending none', async () => {
    let prepares = 0;
    const refused = new Error('login refused');
    const gate = new RateGate({
      budget: { store, key: 'heavy:prepare-fails' },
      prepare: () => (++prepares === 1 ? Promise.reject(refused) : Promise.resolve()),
    });
    gates.push(gate);
    let sent = 0;
    const call = (): Promise<PlatformAnswer> => (sent++, Promise.resolve(answer(200)));
    const results = await Promise.allSettled([gate.run(call), gate.run(call, { low: true }), gate.run(call)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : r.value))).toEqual([
      refused,
      refused,
      refused,
    ]);
    expect([prepares, sent]).toEqual([1, 0]);
    // The next call prepares afresh, and is sent once that succeeds.
    expect((await gate.run(call)).status).toBe(200);
    expect([prepares, sent]).toEqual([2, 1]);
  });
});

describe('rateBudgetKey: one budget per RingCentral app and user, no secret in it', () => {
  const base = { server: 'https://platform.ringcentral.com', clientId: 'app-1', clientSecret: 'shh-secret' };

  it("is the same for the same app and JWT subject, whatever the JWT, the secret or the URL's path", () => {
    const a = rateBudgetKey({ ...base, jwt: fakeJwt('user-1') });
    expect(a).toMatch(/^heavy:[0-9a-f]{64}$/);
    const rotated = `${fakeJwt('user-1').split('.').slice(0, 2).join('.')}.b3RoZXI`;
    expect(rateBudgetKey({ ...base, jwt: rotated, clientSecret: 'other' })).toBe(a);
    expect(rateBudgetKey({ ...base, server: 'https://platform.ringcentral.com/', jwt: fakeJwt('user-1') })).toBe(a);
  });

  it('differs per user, per app and per server', () => {
    const keys = new Set([
      rateBudgetKey({ ...base, jwt: fakeJwt('user-1') }),
      rateBudgetKey({ ...base, jwt: fakeJwt('user-2') }),
      rateBudgetKey({ ...base, clientId: 'app-2', jwt: fakeJwt('user-1') }),
      rateBudgetKey({ ...base, server: 'https://platform.devtest.ringcentral.com', jwt: fakeJwt('user-1') }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('hashes a JWT it cannot decode, and never holds any credential in clear', () => {
    const opaque = 'not-a-jwt-at-all';
    const a = rateBudgetKey({ ...base, jwt: opaque });
    expect(a).not.toBe(rateBudgetKey({ ...base, jwt: 'another-opaque-token' }));
    for (const key of [a, rateBudgetKey({ ...base, jwt: fakeJwt('user-1') })]) {
      for (const secret of [opaque, 'shh-secret', 'app-1', 'user-1', 'ringcentral']) expect(key).not.toContain(secret);
    }
  });

  it("applies the same rule to the emulator's embedded credentials, and one budget to custom platforms", () => {
    const dev = devCredentials('http://127.0.0.1:8787');
    expect(rateBudgetKey(dev)).toBe(rateBudgetKey({ ...dev, jwt: fakeJwt('dev') }));
    expect(rateBudgetKey(dev)).not.toBe(rateBudgetKey(devCredentials('http://127.0.0.1:9999')));
    expect(rateBudgetKey(undefined)).toMatch(/^heavy:[0-9a-f]{64}$/);
    expect(rateBudgetKey({ server: 'x' })).toBe(rateBudgetKey(undefined));
  });

  it('reserves 30 % of the window for submissions, at least 1 when there is more than 1', () => {
    expect([1, 2, 3, 4, 10, 100].map(reserveFor)).toEqual([0, 1, 1, 1, 3, 30]);
  });
});
