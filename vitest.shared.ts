// Every package's vitest config: reports go to the console and, for the CI summary, to one JSON
// file per package under .test-reports/ at the root.
import { basename, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * `serial`: the package's test files run one after another, for a package whose files each run
 * brokers of their own (a Kafka cluster beside a broker a test restarts) that starve each other on
 * a small machine when run side by side.
 */
export function packageTestConfig(dir: string, options: { serial?: boolean } = {}) {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      fileParallelism: !options.serial,
      reporters: ['default', 'json'],
      outputFile: { json: resolve(dir, '../../.test-reports', `${basename(dir)}.json`) },
      testTimeout: 20_000,
      hookTimeout: 60_000,
    },
  });
}
