import { describe, expect, it } from 'vitest';
import { verificationTokenFor } from '../../src/callback/verification-token.js';
import { aceEventFilter } from '../../src/ringcentral/ace.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SubscriptionKeeper } from '../../src/subscriptions/keeper.js';
import { createSubscription } from '../../src/subscriptions/subscription-api.js';
import type { SubscriptionInput } from '../../src/types.js';
import { startKeeperFixture, type KeeperFixture } from './keeper-fixture.js';

/**
 * The keeper among others: one acts per database (the store lease) and no subscription is duplicated;
 * what duplicates this installation left on the platform are removed (and nothing the user made); it never
 * creates past the 30-per-user limit; and a create interrupted after the write-ahead save is finished.
 */

/** A subscription made outside jobhook's records, to a URL minted here (as a user's own SDK code would). */
async function userMade(f: KeeperFixture): Promise<string> {
  const minted = await f.harness.mint({ kind: 'subscription' });
  const info = await createSubscription(f.platformFor('user'), {
    eventFilters: [aceEventFilter('rcv')],
    address: minted.callbackUrl,
    verificationToken: minted.verificationToken,
    expiresInS: 3600,
  });
  return info.id;
}

describe('SubscriptionKeeper among several processes', () => {
  it('two keepers on one database: only the lease holder acts, no subscription is duplicated', async () => {
    const f = await startKeeperFixture();
    const { info } = await f.subscribeAce('ace');
    const otherStore = new SqliteStore({ path: f.harness.dbPath, busyTimeoutMs: 1000 });
    const a = f.keeper({ platform: f.platformFor('a'), leaseMs: 30_000 });
    const b = new SubscriptionKeeper({
      platform: f.platformFor('b'),
      store: otherStore,
      keyring: f.harness.keyring,
      publicUrl: f.harness.baseUrl,
      pathPrefix: '/webhooks',
      leaseMs: 30_000,
      backfill: null,
    });
    try {
      await f.blacklist(info.id);
      await Promise.all([a.kick(), b.kick()]);
      expect([a.state, b.state].sort()).toEqual(['keeping', 'standby']);
      const live = await f.onPlatform();
      expect(live.map((s) => s.status)).toEqual(['Active']);
      expect(f.creates('a').length + f.creates('b').length).toBe(1);
      const holder = a.state === 'keeping' ? 'a' : 'b';
      // The one in standby sent nothing at all, not even a list.
      expect(f.calls.filter((c) => c.tag === (holder === 'a' ? 'b' : 'a'))).toEqual([]);

      // A second round of both changes nothing; then the holder stops and the other takes over.
      await Promise.all([a.kick(), b.kick()]);
      expect((await f.onPlatform()).map((s) => s.id)).toEqual(live.map((s) => s.id));
      const [stopping, staying] = holder === 'a' ? [a, b] : [b, a];
      await stopping.stop();
      await staying.kick();
      expect(staying.state).toBe('keeping');
      expect((await f.onPlatform()).map((s) => s.id)).toEqual(live.map((s) => s.id));
    } finally {
      await b.stop();
      await otherStore.close();
    }
  });

  it('removes duplicates of kept subscriptions, and leaves alone what the user made with minted URLs', async () => {
    const f = await startKeeperFixture();
    const { record, info } = await f.subscribeAce('ace');
    // Two more on the kept address (a move whose delete failed, a create whose process died), and one of the user's.
    const copies = [];
    for (let i = 0; i < 2; i++) {
      const copy = await createSubscription(f.platformFor('crash'), {
        eventFilters: record.eventFilters,
        address: record.address!,
        verificationToken: verificationTokenFor(f.harness.keyring, record.requestId),
        expiresInS: 3600,
      });
      copies.push(copy.id);
    }
    const users = await userMade(f);
    await f.keeper().kick();
    const left = (await f.onPlatform()).map((s) => s.id).sort();
    expect(left).toEqual([info.id, users].sort());
    const deleted = f.calls.filter((c) => c.method === 'DELETE').map((c) => c.path.split('/').at(-1));
    expect(deleted.sort()).toEqual(copies.sort());
    expect(await f.harness.store.findSubscription('ace')).toMatchObject({ platformId: info.id, status: 'Active' });
  });

  it('never creates while the platform holds 30 subscriptions of the user and app', async () => {
    const f = await startKeeperFixture();
    for (let i = 0; i < 30; i++) await userMade(f);
    const minted = await f.harness.mint({ kind: 'subscription' });
    const failed: SubscriptionInput = {
      name: 'ace',
      requestId: minted.requestId,
      eventFilters: [aceEventFilter('pbx')],
      expiresIn: 3600,
      platformId: null,
      address: minted.callbackUrl,
      status: 'Failed',
      expiresAt: null,
      disabledFilters: [],
      blacklistedData: null,
      lastError: 'SUB-521 earlier',
      checkedAt: null,
    };
    await f.harness.store.saveSubscription(failed);
    const keeper = f.keeper();
    await keeper.kick();
    expect(f.creates('main')).toEqual([]);
    const held = await f.harness.store.findSubscription('ace');
    expect(held).toMatchObject({ status: 'Failed', platformId: null });
    expect(held!.lastError).toMatch(/30 subscriptions.*limit 30.*SUB-505/);

    // One slot freed: the next round creates it.
    const [first] = await f.onPlatform();
    await f.platformFor('user').delete(`/restapi/v1.0/subscription/${first!.id}`);
    await keeper.kick();
    expect(f.creates('main')).toHaveLength(1);
    expect(await f.harness.store.findSubscription('ace')).toMatchObject({ status: 'Active', lastError: null });
    expect(await f.onPlatform()).toHaveLength(30);
  });

  it('finishes a create interrupted after its write-ahead save: adopts what reached the platform, else creates', async () => {
    const f = await startKeeperFixture();
    const pending = async (name: string): Promise<SubscriptionInput> => {
      const minted = await f.harness.mint({ kind: 'subscription' });
      const input: SubscriptionInput = {
        name,
        requestId: minted.requestId,
        eventFilters: [aceEventFilter('pbx')],
        expiresIn: 3600,
        platformId: null,
        address: minted.callbackUrl,
        status: 'Pending',
        expiresAt: null,
        disabledFilters: [],
        blacklistedData: null,
        lastError: null,
        checkedAt: null,
      };
      await f.harness.store.saveSubscription(input);
      return input;
    };
    const reached = await pending('reached');
    const made = await createSubscription(f.platformFor('crashed'), {
      eventFilters: reached.eventFilters,
      address: reached.address!,
      verificationToken: verificationTokenFor(f.harness.keyring, reached.requestId),
      expiresInS: 3600,
    });
    await pending('lost');

    // Within the grace, a Pending record is another process's create in flight: left alone.
    await f.keeper().kick();
    expect(f.creates('main')).toEqual([]);
    expect(f.calls.filter((c) => c.method === 'DELETE')).toEqual([]);

    await f.keeper({ pendingGraceMs: 0 }).kick();
    expect(await f.harness.store.findSubscription('reached')).toMatchObject({ platformId: made.id, status: 'Active' });
    const lost = await f.harness.store.findSubscription('lost');
    expect(lost).toMatchObject({ status: 'Active' });
    expect(f.creates('main')).toHaveLength(1);
    expect((await f.onPlatform()).map((s) => s.id).sort()).toEqual([made.id, lost!.platformId].sort());
  });
});
