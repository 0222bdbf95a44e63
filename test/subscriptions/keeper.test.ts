import { describe, expect, it } from 'vitest';
import { awaitInsights } from '../../src/client/insights-waiter.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { backfillWindow, type BackfillWindowOptions } from '../../src/subscriptions/backfill.js';
import { BACKFILL_MARGIN_MS } from '../../src/subscriptions/keeper.js';
import { startKeeperFixture, waitFor } from './keeper-fixture.js';

/**
 * The keeper against the emulator, a real receiver and a real SQLite store: it renews before expiry,
 * re-creates what was blacklisted or is gone (and backfills what it missed), moves subscriptions to a new
 * public URL without losing an event, and re-creates on demand.
 */
describe('SubscriptionKeeper', () => {
  it('creates through the SDK with expiresIn at the top level; a kept subscription needs nothing', async () => {
    const f = await startKeeperFixture();
    const { record, info } = await f.subscribeAce('ace', { domains: ['pbx', 'rcv'], expiresInS: 7200 });
    expect(record).toMatchObject({ status: 'Active', platformId: info.id, expiresIn: 7200, lastError: null });
    // The emulator reads expiresIn at the top level only (elsewhere it applies 7 days): it saw 7200.
    const [seen] = await f.onPlatform();
    expect(seen!.expiresIn).toBeGreaterThan(7100);
    expect(seen!.expiresIn).toBeLessThanOrEqual(7200);
    expect(seen!.deliveryMode.address).toBe(record.address);

    const keeper = f.keeper();
    await keeper.kick();
    expect(keeper.state).toBe('keeping');
    expect(f.calls.filter((c) => c.method !== 'GET')).toHaveLength(1); // the create, nothing since
    const checked = await f.harness.store.findSubscription('ace');
    expect(checked).toMatchObject({ status: 'Active', platformId: info.id, lastError: null });
    expect(checked!.checkedAt).not.toBeNull();

    // Events arrive at the kept address and are stored.
    const call = await f.simulate('pbx');
    const got = await awaitInsights(f.harness.store, { domain: 'pbx', ...call }, { timeoutMs: 5000 });
    expect(got.record.source).toBe('webhook');
  });

  it('renews a subscription expiring within 10 % of its lifetime, and only then', async () => {
    const f = await startKeeperFixture();
    const { info } = await f.subscribeAce('ace', { expiresInS: 3600 });
    const renewals = () => f.calls.filter((c) => c.path.endsWith('/renew'));
    await f.keeper().kick();
    expect(renewals()).toHaveLength(0);
    // 55 minutes later: 5 minutes left of an hour, within its last 6.
    const later = f.keeper({ now: () => Date.now() + 3300_000 });
    await later.kick();
    expect(renewals()).toEqual([
      expect.objectContaining({ path: `/restapi/v1.0/subscription/${info.id}/renew`, status: 200 }),
    ]);
    expect(await f.harness.store.findSubscription('ace')).toMatchObject({ platformId: info.id, status: 'Active' });
  });

  it('a renewal answered 404 (expired between list and renew) re-creates it and backfills', async () => {
    const f = await startKeeperFixture();
    const { info } = await f.subscribeAce('ace', { expiresInS: 3600 });
    const backfills: BackfillWindowOptions[] = [];
    const keeper = f.keeper({
      now: () => Date.now() + 3300_000,
      backfill: async (o) => {
        backfills.push(o);
        return { records: 0, stored: 0 };
      },
    });
    f.before.hook = async (method, path) => {
      if (method === 'POST' && path.endsWith('/renew')) {
        f.before.hook = async () => {};
        await f.platformFor('other').delete(`/restapi/v1.0/subscription/${info.id}`);
      }
    };
    await keeper.kick();
    const renewal = f.calls.find((c) => c.path.endsWith('/renew'));
    expect(renewal?.status).toBe(404);
    const after = await f.harness.store.findSubscription('ace');
    expect(after).toMatchObject({ status: 'Active', lastError: null });
    expect(after!.platformId).not.toBe(info.id);
    expect((await f.onPlatform()).map((s) => s.id)).toEqual([after!.platformId]);
    await waitFor(() => backfills.length === 1);
    expect(backfills[0]!.domains).toEqual(['pbx']);
  });

  it('re-creates a blacklisted subscription (old one deleted) and reads back what it missed', async () => {
    const f = await startKeeperFixture();
    const { record, info } = await f.subscribeAce('ace', { domains: ['pbx', 'rcx'] });
    const first = await f.simulate('pbx');
    await awaitInsights(f.harness.store, { domain: 'pbx', ...first }, { timeoutMs: 5000 });
    const lastEventAt = (await f.harness.store.findSubscription('ace'))!.lastEventAt;
    expect(lastEventAt).not.toBeNull();

    await f.blacklist(info.id);
    // Calls while blacklisted: the platform delivers nothing of them.
    const missed = [await f.simulate('pbx', true), await f.simulate('pbx')];
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const m of missed) expect(await f.harness.store.findInsights({ domain: 'pbx', ...m })).toBeUndefined();

    const windows: BackfillWindowOptions[] = [];
    const keeper = f.keeper({
      backfillBudget: null,
      backfill: (o) => {
        windows.push(o);
        return backfillWindow({ ...o, index: deliveryRules });
      },
    });
    await keeper.kick();
    const after = (await f.harness.store.findSubscription('ace'))!;
    expect(after).toMatchObject({ status: 'Active', requestId: record.requestId, lastError: null });
    expect(after.platformId).not.toBe(info.id);
    expect(after.address).toBe(record.address);
    const live = await f.onPlatform();
    expect(live.map((s) => [s.id, s.status])).toEqual([[after.platformId, 'Active']]);
    expect(f.calls.some((c) => c.method === 'DELETE' && c.path.endsWith(info.id) && c.status === 204)).toBe(true);

    // The window starts at the last event, minus the margin; rcx cannot be listed, pbx is read back.
    expect(windows).toHaveLength(1);
    expect(windows[0]!.domains).toEqual(['pbx', 'rcx']);
    expect(windows[0]!.fromMs).toBe(Date.parse(lastEventAt!) - BACKFILL_MARGIN_MS);
    for (const m of missed) {
      const got = await awaitInsights(f.harness.store, { domain: 'pbx', ...m }, { timeoutMs: 5000 });
      expect(got.record.source).toBe('status-poll');
    }
    // And the re-created subscription delivers again.
    const next = await f.simulate('pbx');
    expect((await awaitInsights(f.harness.store, { domain: 'pbx', ...next }, { timeoutMs: 5000 })).record.source).toBe(
      'webhook',
    );
  });

  it('a re-creation that failed is saved as the error, retried next round, and still backfills', async () => {
    const f = await startKeeperFixture();
    const { info } = await f.subscribeAce('ace');
    await f.blacklist(info.id);
    const backfills: BackfillWindowOptions[] = [];
    const keeper = f.keeper({
      backfill: async (o) => {
        backfills.push(o);
        return { records: 0, stored: 0 };
      },
    });
    f.before.hook = async (method, path) => {
      if (method === 'POST' && path === '/restapi/v1.0/subscription') throw new Error('connection reset');
    };
    await keeper.kick();
    const failed = (await f.harness.store.findSubscription('ace'))!;
    expect(failed).toMatchObject({ status: 'Blacklisted', platformId: null, lastError: 'connection reset' });
    expect(await f.onPlatform()).toEqual([]); // the blacklisted one was deleted first
    expect(backfills).toEqual([]);

    f.before.hook = async () => {};
    await keeper.kick();
    expect(await f.harness.store.findSubscription('ace')).toMatchObject({ status: 'Active', lastError: null });
    await waitFor(() => backfills.length === 1);
    // No event yet: from the last time it was seen healthy (the create), minus the margin.
    expect(backfills[0]!.fromMs).toBe(Date.parse(failed.checkedAt!) - BACKFILL_MARGIN_MS);
  });

  it('moves every subscription to a new public URL, new first then old deleted, losing no event', async () => {
    const f = await startKeeperFixture();
    const { record, info } = await f.subscribeAce('ace');
    const moved = await f.secondReceiver();
    const keeper = f.keeper({ publicUrl: moved.baseUrl });
    let during: { sourceRecordId: string } | null = null;
    f.before.hook = async (method, path) => {
      // The new subscription exists, the old one not yet deleted: a call now reaches one or both.
      if (method === 'DELETE' && path.endsWith(info.id)) {
        f.before.hook = async () => {};
        during = await f.simulate('pbx');
      }
    };
    await keeper.kick();
    const after = (await f.harness.store.findSubscription('ace'))!;
    expect(after.address!.startsWith(`${moved.baseUrl}/webhooks/${record.requestId}/`)).toBe(true);
    expect(after.platformId).not.toBe(info.id);
    const live = await f.onPlatform();
    expect(live.map((s) => [s.id, s.deliveryMode.address])).toEqual([[after.platformId, after.address]]);
    const methods = f.calls.filter((c) => c.method !== 'GET').map((c) => c.method);
    expect(methods).toEqual(['POST', 'POST', 'DELETE']); // subscribe, then the move: create, delete
    expect(during).not.toBeNull();
    await awaitInsights(f.harness.store, { domain: 'pbx', ...during! }, { timeoutMs: 5000 });
    expect(await f.harness.store.listInsights()).toHaveLength(1);
    // Later events go to the new address only.
    const later = await f.simulate('pbx');
    await awaitInsights(f.harness.store, { domain: 'pbx', ...later }, { timeoutMs: 5000 });
    expect(live).toHaveLength(1);
  });

  it('re-creates on demand (the inspector button) and renews on a renewal reminder', async () => {
    const f = await startKeeperFixture();
    const { info } = await f.subscribeAce('ace');
    const backfills: string[][] = [];
    const keeper = f.keeper({
      backfill: async (o) => {
        backfills.push([...o.domains]);
        return { records: 0, stored: 0 };
      },
    });
    keeper.start();
    await waitFor(() => keeper.state === 'keeping');
    await keeper.recreate('ace');
    const after = (await f.harness.store.findSubscription('ace'))!;
    expect(after).toMatchObject({ status: 'Active', lastError: null });
    expect(after.platformId).not.toBe(info.id);
    expect((await f.onPlatform()).map((s) => s.id)).toEqual([after.platformId]);
    await expect(keeper.recreate('nope')).rejects.toMatchObject({ code: 'JH_ERR_NOT_FOUND' });

    await keeper.onReminder(after.platformId!);
    expect(f.calls.filter((c) => c.path.endsWith('/renew'))).toEqual([
      expect.objectContaining({ path: `/restapi/v1.0/subscription/${after.platformId!}/renew`, status: 200 }),
    ]);
    // It was delivering: nothing to fill in. Re-creating a blacklisted one fills the gap.
    expect(backfills).toEqual([]);
    await f.blacklist(after.platformId!);
    await keeper.recreate('ace');
    const again = (await f.harness.store.findSubscription('ace'))!;
    expect(again).toMatchObject({ status: 'Active' });
    expect((await f.onPlatform()).map((s) => [s.id, s.status])).toEqual([[again.platformId, 'Active']]);
    await waitFor(() => backfills.length === 1);
    expect(backfills).toEqual([['pbx']]);
    await keeper.stop();
    expect(keeper.state).toBe('stopped');
  });
  it('after a stop too short to blacklist anything, the next keeper reads back what was missed (outside tester)', async () => {
    const f = await startKeeperFixture();
    await f.subscribeAce('ace', { domains: ['pbx'] });
    const first = f.keeper();
    await first.kick();
    const before = await f.simulate('pbx');
    await awaitInsights(f.harness.store, { domain: 'pbx', ...before }, { timeoutMs: 5000 }); // lastEventAt set
    await first.stop();
    // While no keeper ran (the receiver down, say), a call's events never arrived: the platform gave up on
    // them after its retries, and the subscription stayed Active.
    const response = await fetch(`${f.base}/_emulator/ace/calls`, {
      method: 'POST',
      body: JSON.stringify({ domain: 'pbx', withAiNotes: true, faults: 'drop' }),
    });
    expect(response.status).toBe(201);
    const missed = (await response.json()) as { sourceRecordId: string };
    expect((await f.onPlatform())[0]!.status).toBe('Active');
    await new Promise((resolve) => setTimeout(resolve, 200)); // both versions published (and dropped)
    expect(await f.harness.store.findInsights({ domain: 'pbx', ...missed })).toBeUndefined();

    // The restart: this process takes the lease.
    await f.keeper({ backfill: (o) => backfillWindow({ ...o, budget: null, index: deliveryRules }) }).kick();
    const got = await awaitInsights(f.harness.store, { domain: 'pbx', ...missed }, { timeoutMs: 5000 });
    expect(got.record.source).toBe('status-poll');
    expect(f.creates()).toHaveLength(1); // nothing was re-created: only read back
  });
});
