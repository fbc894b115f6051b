import { afterAll } from 'vitest';
import { dropTestSchemas } from './test-store.ts';

// PostgreSQL pass: the schemas a test file's DATA_DIRs got are dropped when the file is done (no-op on SQLite).
afterAll(async () => {
  await dropTestSchemas();
}, 60_000);
