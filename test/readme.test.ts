// The README's examples are documentation a newcomer runs first: run each as written and compare
// its output with the `text` block that follows it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
const examples = [...readme.matchAll(/### (.+)\n[\s\S]*?```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g)].map(
  ([, title, code, output]) => ({ title: title as string, code: code as string, output: output as string }),
);
// Inside this package so that @msg/* resolve as they do for a user of the workspace.
const dir = mkdtempSync(join(import.meta.dirname, '.readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('there are examples for all four patterns', () => {
    expect(examples.map((e) => e.title)).toEqual(['Request/reply', 'Publish/subscribe', 'Survey', 'Bus']);
  });

  for (const example of examples) {
    it(`${example.title} runs as written and prints what the README says`, async () => {
      const file = join(dir, `${example.title.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(file, example.code);
      const { stdout } = await run(process.execPath, [file], { timeout: 20_000 });
      expect(stdout.trim()).toBe(example.output.trim());
    });
  }
});
