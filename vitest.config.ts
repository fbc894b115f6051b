import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Tests that start servers and SQLite files stay isolated per file.
    isolate: true,
    env: { LOG_LEVEL: 'silent' },
    // The PostgreSQL pass (ESTORNO_TEST_STORE=postgres, see test/run-both.ts) drops each file's schemas after it.
    setupFiles: ['test/helpers/pg-setup.ts'],
  },
});
