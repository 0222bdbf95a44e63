import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring, generateSecret, type Keyring } from '../../src/callback/callback-url.js';
import { verificationTokenFor } from '../../src/callback/verification-token.js';
import { createMinter } from '../../src/client/minter.js';
import { createEmulator } from '../../src/emulator/server.js';
import { createReceiver, type Receiver } from '../../src/receiver/receiver.js';
import { aceEventFilter } from '../../src/ringcentral/ace.js';
import { createPlatform, type Platform, type PlatformAnswer } from '../../src/ringcentral/platform.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { KEEPER_LEASE, SubscriptionKeeper } from '../../src/subscriptions/keeper.js';
import { subscribe } from '../../src/subscriptions/subscribe.js';
import { freshSchema, skipWithoutPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * Issue #12's last check: two jobhook instances on one PostgreSQL schema, behind one public URL (a
 * round-robin balancer), each with its receiver and its keeper. One keeper acts (the store lease), the
 * other sends the platform nothing; one subscription exists however often it is blacklisted; duplicated
 * notifications landing on both instances are stored once (one delivery and one event per envelope uuid,
 * one insight record per call at its newest version); and when the keeping instance dies holding the
 * lease, the other takes over once the lease expired, and still keeps exactly one subscription.
 */
const INTERVAL_MS = 200;
const LEASE_MS = 1500;
const CREATE = '/restapi/v1.0/subscription';

interface Call {
  tag: string;
  method: string;
  path: string;
  atMs: number;
}
interface Attempt {
  uuid: string;
  status: number | null;
}
interface EmulatedSubscription {
  id: string;
  status: string;
  deliveryMode: { address: string };
  attempts: Attempt[];
}
interface EmulatedCall {
  sourceRecordId: string;
  plannedEvents: number;
  versions: { lastModifiedTime: string }[];
}

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

describe.skipIf(skipWithoutPostgres('SubscriptionKeeper on PostgreSQL'))('SubscriptionKeeper on PostgreSQL', () => {
  it('two instances behind one URL: one keeper, one subscription, every event stored once; takeover after a crash', async () => {
    const fresh = await freshSchema();
    open.push({ close: () => fresh.drop() });
    const emulator = createEmulator({
      ace: { insightsDelayMs: 10, aiNotesGapMs: 250 },
      subscriptions: { delivery: { retries: 0, backoffMs: 10, attemptTimeoutMs: 2000 } },
    });
    const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
    open.push(emulator);
    const json = async <T>(path: string, body?: unknown): Promise<T> => {
      const init = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) };
      const response = await fetch(`${base}${path}`, init);
      expect(response.ok, `${path} answered ${response.status}`).toBe(true);
      return (await response.json()) as T;
    };
    const onPlatform = async () =>
      (await json<{ subscriptions: EmulatedSubscription[] }>('/_emulator/subscriptions')).subscriptions;

    // Every platform call of both instances, tagged, so that the standby one is seen to send nothing.
    const calls: Call[] = [];
    const platformFor = (tag: string): Platform => {
      const inner = createPlatform({ server: base, clientId: 'id', clientSecret: 'secret', jwt: fakeJwt() });
      open.push(inner);
      const recorded =
        (method: string, send: (path: string, body?: unknown) => Promise<PlatformAnswer>) =>
        async (path: string, body?: unknown): Promise<PlatformAnswer> => {
          calls.push({ tag, method, path, atMs: Date.now() });
          return send(path, body);
        };
      return {
        ...inner,
        post: recorded('POST', (path, body) => inner.post(path, body)),
        get: recorded('GET', (path) => inner.get(path)),
        put: recorded('PUT', (path, body) => inner.put(path, body)),
        delete: recorded('DELETE', (path) => inner.delete(path)),
      };
    };
    const callsOf = (tag: string, method?: string, path?: string) =>
      calls.filter((c) => c.tag === tag && (!method || c.method === method) && (!path || c.path === path));

    // Two instances: their own store (pool, owner id) on one schema, their own receiver; secrets shared.
    const instance = async (tag: string) => {
      const store = await PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 4 });
      open.push(store);
      const keyring: Keyring = createKeyring(await store.ensureSecrets(generateSecret));
      const receiver: Receiver = createReceiver({ store, keyring, pathPrefix: '/webhooks' });
      const url = `http://127.0.0.1:${(await receiver.listen(0, '127.0.0.1')).port}`;
      open.push({ close: () => receiver.close() });
      return { tag, store, keyring, receiver, url, platform: platformFor(tag) };
    };
    const a = await instance('a');
    const b = await instance('b');
    const proxy = await startRoundRobinProxy([a.url, b.url]);
    open.push(proxy);
    const keeperOf = (i: typeof a) => {
      const keeper = new SubscriptionKeeper({
        platform: i.platform,
        store: i.store,
        keyring: i.keyring,
        publicUrl: proxy.url,
        pathPrefix: '/webhooks',
        intervalMs: INTERVAL_MS,
        leaseMs: LEASE_MS,
        backfill: null,
      });
      open.push({ close: () => keeper.stop() });
      return keeper;
    };

    const mint = createMinter({ store: a.store, keyring: a.keyring, publicUrl: proxy.url, pathPrefix: '/webhooks' });
    const { record } = await subscribe({
      platform: a.platform,
      store: a.store,
      mint: () => mint({ kind: 'subscription' }),
      name: 'ace',
      eventFilters: [aceEventFilter('pbx')],
      expiresInS: 3600,
    });
    const keeperA = keeperOf(a);
    const keeperB = keeperOf(b);
    keeperA.start();
    await waitFor(() => keeperA.state === 'keeping');
    keeperB.start();
    /** Waits until the `tag` keeper listed the platform `rounds` more times (each round lists once). */
    const rounds = async (tag: string, count: number) => {
      const target = callsOf(tag, 'GET', CREATE).length + count;
      await waitFor(() => callsOf(tag, 'GET', CREATE).length >= target, 5000);
    };
    const recreatedFrom = async (store: PostgresStore, platformId: string) =>
      waitFor(async () => {
        const now = await store.findSubscription('ace');
        return now?.status === 'Active' && now.platformId !== platformId && now;
      }, 5000);
    /** One subscription on the platform, Active at the kept address, and one record (shared) naming it. */
    const exactlyOne = async () => {
      const live = await onPlatform();
      const kept = await b.store.listSubscriptions();
      expect(kept.map((s) => [s.name, s.status])).toEqual([['ace', 'Active']]);
      expect(live.map((s) => [s.id, s.status, s.deliveryMode.address])).toEqual([
        [kept[0]!.platformId, 'Active', kept[0]!.address],
      ]);
      return live[0]!;
    };

    // Several rounds, and a blacklisting while both keepers run: one re-creation, by the holder only.
    await rounds('a', 3);
    await json(`/_emulator/subscriptions/${record.platformId!}/blacklist`, { reason: 'test' });
    // Both keepers run a round at the same moment: without the lease both would re-create it.
    await Promise.all([keeperA.kick(), keeperB.kick()]);
    const recreated = await recreatedFrom(b.store, record.platformId!);
    await rounds('a', 3);
    expect([keeperA.state, keeperB.state]).toEqual(['keeping', 'standby']);
    expect(callsOf('b')).toEqual([]); // standby: not even a list
    const creates = () => calls.filter((c) => c.method === 'POST' && c.path === CREATE).map((c) => c.tag);
    expect(creates()).toEqual(['a', 'a']); // subscribe, then the one re-creation
    expect((await exactlyOne()).id).toBe(recreated.platformId);
    expect(recreated.address!.startsWith(`${proxy.url}/webhooks/${record.requestId}/`)).toBe(true);

    // ACE calls, every notification sent three times; the balancer spreads the copies over both instances.
    const simulated: { sourceRecordId: string; events: number }[] = [];
    for (const withAiNotes of [true, false, true, false]) {
      simulated.push(await json('/_emulator/ace/calls', { domain: 'pbx', withAiNotes, faults: 'duplicate=3' }));
    }
    const planned = simulated.reduce((n, c) => n + c.events, 0);
    expect(planned).toBe(6);
    const delivered = async (id: string, copies: number) => {
      const ok = (await json<EmulatedSubscription>(`/_emulator/subscriptions/${id}`)).attempts.filter(
        (t) => t.status === 200,
      );
      return ok.length >= copies && ok;
    };
    const attempts = await waitFor(() => delivered(recreated.platformId!, planned * 3), 8000);
    const uuids = [...new Set(attempts.map((t) => t.uuid))].sort();
    expect(uuids).toHaveLength(planned);
    expect(attempts).toHaveLength(planned * 3);
    const landed = proxy.answered.filter((r) => r.path.startsWith(`/webhooks/${record.requestId}/`));
    expect(new Set(landed.map((r) => r.backend))).toEqual(new Set([a.url, b.url]));

    const emulated = async () => (await json<{ calls: EmulatedCall[] }>('/_emulator/ace/calls')).calls;
    /** Once every delivery is indexed: one per uuid (its copies folded into it), one event per uuid. */
    const storedOnce = async (expected: string[], copies: number, stores: PostgresStore[]) => {
      const deliveries = await waitFor(async () => {
        const all = await stores[0]!.listDeliveries(record.requestId);
        return all.length >= expected.length && all.every((d) => d.parseState !== 'pending') && all;
      }, 8000);
      const byUuid = deliveries.map((d) => (JSON.parse(d.body.toString()) as { uuid: string }).uuid);
      expect(byUuid.sort()).toEqual(expected);
      expect(deliveries.reduce((n, d) => n + d.count, 0)).toBe(copies);
      for (const store of stores) {
        const events = await store.listEvents({ requestId: record.requestId });
        expect(events.map((e) => e.uuid).sort()).toEqual(expected);
      }
    };
    await storedOnce(uuids, planned * 3, [a.store, b.store]);
    // Redeliveries whose bytes differ (folded by uuid, not by hash), sent at once to both instances.
    const redeliver = async (bytes: string) => {
      const response = await fetch(`${proxy.url}${new URL(recreated.address!).pathname}`, {
        method: 'POST',
        body: bytes,
        headers: {
          'content-type': 'application/json',
          'verification-token': verificationTokenFor(a.keyring, record.requestId),
        },
      });
      expect(response.status).toBe(200);
    };
    const stored = await a.store.listDeliveries(record.requestId);
    await Promise.all(
      stored.flatMap((d) => {
        const envelope: unknown = JSON.parse(d.body.toString());
        return [1, 2].map((indent) => redeliver(JSON.stringify(envelope, null, indent)));
      }),
    );
    const copies = planned * 3 + 2 * stored.length;
    await storedOnce(uuids, copies, [a.store, b.store]);
    const newestOnce = async (only?: string) => {
      for (const call of await emulated()) {
        if (only && call.sourceRecordId !== only) continue;
        const key = { domain: 'pbx', sourceRecordId: call.sourceRecordId };
        const got = await waitFor(async () => {
          const r = await b.store.findInsights(key);
          return r?.versions === call.plannedEvents && r;
        }, 5000);
        expect(got.lastModifiedTime).toBe(call.versions.at(-1)!.lastModifiedTime);
      }
    };
    await newestOnce();
    expect((await a.store.listInsights()).map((r) => r.sourceRecordId).sort()).toEqual(
      simulated.map((c) => c.sourceRecordId).sort(),
    );

    // Instance A dies holding the lease: receiver gone, store gone, so its keeper cannot release the lease.
    await a.receiver.close();
    await a.store.close();
    await keeperA.stop();
    const crashAtMs = Date.now();
    const answeredBeforeCrash = proxy.answered.length;
    const leases = await fresh.sql<{ owner: string }>('SELECT owner FROM leases WHERE name = $1', [KEEPER_LEASE]);
    expect(leases).toEqual([{ owner: a.store.ownerId }]);
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    expect(keeperB.state).toBe('standby'); // the lease still holds it off
    await waitFor(() => keeperB.state === 'keeping', LEASE_MS + 2000);
    await rounds('b', 2);
    const firstOfB = callsOf('b')[0]!;
    expect(firstOfB.atMs - Math.max(...callsOf('a').map((c) => c.atMs))).toBeGreaterThan(LEASE_MS - 2 * INTERVAL_MS);
    expect(calls.filter((c) => c.tag === 'a' && c.atMs > crashAtMs)).toEqual([]);
    expect(creates()).toEqual(['a', 'a']); // B took it over as it was: nothing to create
    expect((await exactlyOne()).id).toBe(recreated.platformId);

    // Blacklisted again: B re-creates it, once, and events reach B alone through the balancer.
    await json(`/_emulator/subscriptions/${recreated.platformId!}/blacklist`, { reason: 'test' });
    const again = await recreatedFrom(b.store, recreated.platformId!);
    await rounds('b', 3);
    expect(creates()).toEqual(['a', 'a', 'b']);
    expect((await exactlyOne()).id).toBe(again.platformId);
    const last = await json<{ sourceRecordId: string; events: number }>('/_emulator/ace/calls', {
      domain: 'pbx',
      withAiNotes: true,
      faults: 'duplicate=2',
    });
    const lastAttempts = await waitFor(() => delivered(again.platformId!, last.events * 2), 8000);
    const lastUuids = [...new Set(lastAttempts.map((t) => t.uuid))];
    expect(lastUuids).toHaveLength(last.events);
    await storedOnce([...uuids, ...lastUuids].sort(), copies + last.events * 2, [b.store]);
    await newestOnce(last.sourceRecordId);
    const sinceCrash = proxy.answered.slice(answeredBeforeCrash);
    expect(sinceCrash.length).toBeGreaterThan(0);
    expect(sinceCrash.filter((r) => r.backend !== b.url)).toEqual([]);
    expect(await b.store.listInsights()).toHaveLength(simulated.length + 1);
  }, 30_000);
});
