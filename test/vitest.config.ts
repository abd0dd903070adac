import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: resolve(import.meta.dirname, '../.test-reports/e2e.json') },
    testTimeout: 30_000,
  },
});
