// Every package's vitest config: reports go to the console and, for the CI summary, to one JSON
// file per package under .test-reports/ at the root.
import { basename, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export function packageTestConfig(dir: string) {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: resolve(dir, '../../.test-reports', `${basename(dir)}.json`) },
      testTimeout: 20_000,
      hookTimeout: 60_000,
    },
  });
}
