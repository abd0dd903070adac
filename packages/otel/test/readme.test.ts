// The README's example runs as written and prints what the README says.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
const [, code, output] = /## Example[\s\S]*?```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme) ?? [];
// Inside this package so that @msg/* and @opentelemetry/* resolve as they do for a user of the workspace.
const dir = mkdtempSync(join(import.meta.dirname, '.readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the README example runs as written and prints the trace the README shows', async () => {
  expect(code).toBeDefined();
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code as string);
  const { stdout } = await run(process.execPath, [file], { timeout: 20_000 });
  expect(stdout.trim()).toBe((output as string).trim());
});
