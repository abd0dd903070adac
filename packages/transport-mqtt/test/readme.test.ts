// The README's example runs as written against the shared broker and prints what the README says.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkBroker } from '@msg/conformance';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
const [, code, output] = /```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme) ?? [];
// Inside this package so that @msg/* and mqtt resolve as they do for a user of the workspace.
const dir = mkdtempSync(join(import.meta.dirname, '.readme-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (skip) return;
  // The example leaves its durable session behind, as it says; this removes it.
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: 'billing-example', clean: true, reconnectPeriod: 0 });
  await client.endAsync();
});

it.skipIf(skip)('the README example runs as written and prints what the README says', async () => {
  expect(code).toBeDefined();
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code as string);
  const { stdout } = await run(process.execPath, [file], { timeout: 20_000 });
  expect(stdout.trim()).toBe((output as string).trim());
});
