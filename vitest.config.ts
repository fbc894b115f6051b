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
  },
});
