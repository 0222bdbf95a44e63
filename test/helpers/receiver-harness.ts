import Database from 'better-sqlite3';
import { createKeyring, generateSecret, type Keyring } from '../../src/callback/callback-url.js';
import { createMinter, type Mint } from '../../src/client/minter.js';
import { createReceiver, type Receiver, type ReceiverOptions } from '../../src/receiver/receiver.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { DeliveryRecord } from '../../src/types.js';

export interface Harness {
  store: SqliteStore;
  keyring: Keyring;
  receiver: Receiver;
  baseUrl: string;
  mint: Mint;
  dbPath: string;
  /** Row counts read through a separate connection, as another process would see them. */
  counts(): { requests: number; deliveries: number; indexed: number; settings: number };
  close(): Promise<void>;
}

/** A real receiver on 127.0.0.1:0 over a real SQLite file. */
export async function startHarness(
  dbPath: string,
  options: Partial<Omit<ReceiverOptions, 'store' | 'keyring'>> = {},
  port = 0,
): Promise<Harness> {
  const store = new SqliteStore({ path: dbPath, busyTimeoutMs: 200 });
  const keyring = createKeyring(await store.ensureSecrets(generateSecret));
  const receiver = createReceiver({ store, keyring, pathPrefix: '/webhooks', ...options });
  const address = await receiver.listen(port, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const mint = createMinter({ store, keyring, publicUrl: baseUrl, pathPrefix: options.pathPrefix ?? '/webhooks' });
  let closed = false;
  return {
    store,
    keyring,
    receiver,
    baseUrl,
    mint,
    dbPath,
    counts() {
      const db = new Database(dbPath, { readonly: true });
      try {
        const one = (sql: string): number => (db.prepare(sql).pluck().get() as number | null) ?? 0;
        return {
          requests: one('SELECT COUNT(*) FROM requests'),
          deliveries: one('SELECT COUNT(*) FROM deliveries'),
          indexed: one('SELECT COUNT(*) FROM delivery_index'),
          settings: one('SELECT COUNT(*) FROM settings'),
        };
      } finally {
        db.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await receiver.close();
      await store.close();
    },
  };
}

/** Posts a body and returns the status; keeps connections out of the agent pool so servers close fast. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits until the receiver's indexer has caught up with every stored delivery of `requestId`. */
export async function indexedDeliveries(store: SqliteStore, requestId: string): Promise<DeliveryRecord[]> {
  return waitFor(async () => {
    const deliveries = await store.listDeliveries(requestId);
    return deliveries.every((d) => d.parseState !== 'pending') && deliveries;
  });
}

/** Waits until `check` returns a truthy value, polling every 10 ms, up to `timeoutMs`. */
type Falsy = undefined | null | false;

export async function waitFor<T>(check: () => T | Falsy | Promise<T | Falsy>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
