import { describe, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { freshSchema, skipWithoutPostgres } from '../helpers/postgres.js';
import { describeStoreContract } from './contract.js';

// A schema of its own per test; `second` is another PostgresStore on it (its own pool, LISTEN connection and
// owner identity), as another instance of a fleet would open it.
if (skipWithoutPostgres('Store contract: PostgresStore')) {
  describe.skip('Store contract: PostgresStore', () => {
    it('needs JOBHOOK_TEST_DATABASE_URL', () => undefined);
  });
} else {
  describeStoreContract(
    'PostgresStore',
    async () => {
      const fresh = await freshSchema();
      const open = () => PostgresStore.open({ connectionString: fresh.url, schema: fresh.schema, poolSize: 4 });
      const opened: Store[] = [await open()];
      return {
        store: opened[0]!,
        second: async () => {
          const store = await open();
          opened.push(store);
          return store;
        },
        cleanup: async () => {
          await Promise.all(opened.map((s) => s.close()));
          await fresh.drop();
        },
      };
    },
    { spoolFiles: false },
  );
}
