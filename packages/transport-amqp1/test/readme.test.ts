// The README's example runs as written against the shared broker and prints what the README says.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkBroker } from '@msg/conformance';
import { afterAll, expect, it } from 'vitest';
import { removeDurable } from './durable.js';

const run = promisify(execFile);
const skip = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);
const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
const [, code, output] = /```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme) ?? [];
// Inside this package so that @msg/* and rhea resolve as they do for a user of the workspace.
const dir = mkdtempSync(join(import.meta.dirname, '.readme-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // The example leaves its durable subscription behind, as it says; this removes it.
  if (!skip) await removeDurable('billing-example', 'orders.*');
});

it.skipIf(skip)('the README example runs as written and prints what the README says', async () => {
  expect(code).toBeDefined();
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code as string);
  const { stdout } = await run(process.execPath, [file], { timeout: 20_000 });
  expect(stdout.trim()).toBe((output as string).trim());
});
