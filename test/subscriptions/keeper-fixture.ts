import { afterEach, expect } from 'vitest';
import type { EmulatorConfig } from '../../src/emulator/options.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { createReceiver, type Receiver } from '../../src/receiver/receiver.js';
import { createPlatform, type Platform, type PlatformAnswer } from '../../src/ringcentral/platform.js';
import { SubscriptionKeeper, type KeeperOptions } from '../../src/subscriptions/keeper.js';
import { subscribe, type Subscribed } from '../../src/subscriptions/subscribe.js';
import { aceEventFilter, type AceDomain } from '../../src/ringcentral/ace.js';
import { startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * A real receiver over a real SQLite file, the emulator, and platforms that record every call they send
 * (with a hook that runs before one, to stage races such as an expiry between the list and the renewal).
 */
export interface Call {
  tag: string;
  method: string;
  path: string;
  status: number;
}

export interface EmulatedSubscriptionView {
  id: string;
  status: string;
  expiresIn: number;
  expirationTime: string;
  deliveryMode: { address: string };
  eventFilters: string[];
}

export interface KeeperFixture {
  emulator: Emulator;
  base: string;
  harness: Harness;
  /** Every call of every platform made here, in order. */
  calls: Call[];
  platform: Platform;
  /** A second platform session of the same user and app, its calls tagged `tag`. */
  platformFor(tag: string): Platform;
  /** Runs before each call of every platform made here (a test replaces it). */
  before: { hook: (method: string, path: string) => Promise<void> };
  keeper(options?: Partial<KeeperOptions>): SubscriptionKeeper;
  subscribeAce(name: string, options?: { domains?: AceDomain[]; expiresInS?: number }): Promise<Subscribed>;
  /** The emulator's view of every subscription (control API). */
  onPlatform(): Promise<EmulatedSubscriptionView[]>;
  blacklist(id: string): Promise<void>;
  simulate(domain: AceDomain, withAiNotes?: boolean): Promise<{ sourceRecordId: string }>;
  /** Another receiver on the same store and keyring (a new tunnel pointing at this installation). */
  secondReceiver(): Promise<{ receiver: Receiver; baseUrl: string }>;
  creates(tag?: string): Call[];
}

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

export async function startKeeperFixture(config: EmulatorConfig = {}): Promise<KeeperFixture> {
  const emulator = createEmulator({
    ace: { insightsDelayMs: 10, aiNotesGapMs: 30 },
    ...config,
    subscriptions: { delivery: { retries: 0, backoffMs: 10, attemptTimeoutMs: 2000 }, ...config.subscriptions },
  });
  const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  open.push(emulator);
  const harness = await startHarness(tempDbPath());
  open.push(harness);
  const calls: Call[] = [];
  const before: KeeperFixture['before'] = { hook: async () => {} };

  const platformFor = (tag: string): Platform => {
    const inner = createPlatform({ server: base, clientId: 'id', clientSecret: 'secret', jwt: fakeJwt() });
    open.push(inner);
    const recorded =
      (method: string, send: (path: string, body?: unknown) => Promise<PlatformAnswer>) =>
      async (path: string, body?: unknown): Promise<PlatformAnswer> => {
        await before.hook(method, path);
        const answer = await send(path, body);
        calls.push({ tag, method, path, status: answer.status });
        return answer;
      };
    return {
      ...inner,
      post: recorded('POST', (path, body) => inner.post(path, body)),
      get: recorded('GET', (path) => inner.get(path)),
      put: recorded('PUT', (path, body) => inner.put(path, body)),
      delete: recorded('DELETE', (path) => inner.delete(path)),
    };
  };
  const platform = platformFor('main');

  const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${base}${path}`, init);
    expect(response.ok, `${path} answered ${response.status}`).toBe(true);
    return (await response.json()) as T;
  };

  return {
    emulator,
    base,
    harness,
    calls,
    platform,
    platformFor,
    before,
    keeper(options = {}) {
      const keeper = new SubscriptionKeeper({
        platform,
        store: harness.store,
        keyring: harness.keyring,
        publicUrl: harness.baseUrl,
        pathPrefix: '/webhooks',
        intervalMs: 60_000,
        backfill: null,
        ...options,
      });
      open.push({ close: () => keeper.stop() });
      return keeper;
    },
    subscribeAce(name, options = {}) {
      return subscribe({
        platform,
        store: harness.store,
        mint: () => harness.mint({ kind: 'subscription' }),
        name,
        eventFilters: (options.domains ?? ['pbx']).map((d) => aceEventFilter(d)),
        expiresInS: options.expiresInS ?? 3600,
      });
    },
    async onPlatform() {
      return (await json<{ subscriptions: EmulatedSubscriptionView[] }>('/_emulator/subscriptions')).subscriptions;
    },
    async blacklist(id) {
      await json(`/_emulator/subscriptions/${id}/blacklist`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'Webhook responses with code: [404], reason: [Not Found]' }),
      });
    },
    async simulate(domain, withAiNotes = false) {
      const response = await fetch(`${base}/_emulator/ace/calls`, {
        method: 'POST',
        body: JSON.stringify({ domain, withAiNotes }),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { sourceRecordId: string };
    },
    async secondReceiver() {
      const receiver = createReceiver({ store: harness.store, keyring: harness.keyring, pathPrefix: '/webhooks' });
      const address = await receiver.listen(0, '127.0.0.1');
      // Closed before the harness (and its store): registered after it, so it is closed first.
      open.push({ close: () => receiver.close() });
      return { receiver, baseUrl: `http://127.0.0.1:${address.port}` };
    },
    creates(tag) {
      return calls.filter(
        (c) => c.method === 'POST' && c.path === '/restapi/v1.0/subscription' && (tag === undefined || c.tag === tag),
      );
    },
  };
}

export { waitFor };
