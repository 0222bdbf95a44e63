import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Process-level tests spawn servers and burn CPU; two cores are shared with them.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
