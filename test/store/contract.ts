import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeIngestContract } from './contract-ingest.js';
import { describeNotificationsContract } from './contract-notifications.js';
import { describeQueuesContract } from './contract-queues.js';
import { describeRequestsContract } from './contract-requests.js';

/**
 * The behaviour every `Store` backend must show, pinned through the interface alone (no SQL, no file
 * layout), after undici's cache-store-test-utils: one suite, called by each backend's test file
 * (sqlite-contract.test.ts, postgres-contract.test.ts).
 *
 * `open` makes a fresh, empty database; `second` opens another connection to that same database (another
 * process, as far as the store can tell: its own owner identity); `cleanup` closes every store it opened and
 * removes the database. Leases and due times run on the database's clock, so cases that need time to pass
 * use short leases and real waits.
 */
export interface StoreUnderTest {
  store: Store;
  second: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

export interface ContractOptions {
  /**
   * The backend keeps large bodies in spool files beside the database and lists them for parsing off the
   * event loop (SQLite); false where bodies live in the database itself (PostgreSQL: every instance reads them).
   */
  spoolFiles: boolean;
}

/** What each section of the suite reads: the store under test of the running case. */
export interface ContractContext {
  readonly t: StoreUnderTest;
  readonly options: ContractOptions;
}

export function describeStoreContract(
  name: string,
  open: () => Promise<StoreUnderTest>,
  options: ContractOptions,
): void {
  describe(`Store contract: ${name}`, () => {
    let current: StoreUnderTest | null = null;
    const ctx: ContractContext = {
      get t() {
        if (!current) throw new Error('no store open: contract sections read it inside a test');
        return current;
      },
      options,
    };
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = null;
    });
    describeRequestsContract(ctx);
    describeIngestContract(ctx);
    describeQueuesContract(ctx);
    describeNotificationsContract(ctx);
  });
}
