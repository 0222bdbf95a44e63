import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { describeStoreContract } from './contract.js';

// A real file in a temp folder per test; `second` is another connection to it, as another process would open.
// The folder is made here, not with tempDir(): `open` runs inside beforeEach, where hooks cannot be added.
describeStoreContract(
  'SqliteStore',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobhook-contract-'));
    const path = join(dir, 'jobhook.db');
    // A short watch interval: settlements through the other connection are noticed by polling.
    const opened: Store[] = [new SqliteStore({ path, watchIntervalMs: 20 })];
    return {
      store: opened[0]!,
      second: async () => {
        const store = new SqliteStore({ path, watchIntervalMs: 20 });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { spoolFiles: true },
);
