import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that stop the PostgreSQL server every other PostgreSQL test shares: a project of their own, run after
 * the rest (`sequence.groupOrder`), never beside them.
 */
const ALONE = ['test/cli/postgres-outage.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Process-level tests spawn servers and burn CPU; two cores are shared with them.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE] },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, env: { JOBHOOK_TEST_PG_OUTAGE: '1' }, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
