// Checks what each publishable workspace package would really publish, after `pnpm build`: the
// tarball `pnpm pack` makes (files applied, workspace:* rewritten) goes through publint and attw.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const attw = join(root, 'node_modules', '.bin', 'attw');
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const workspace = JSON.parse(run('pnpm', ['ls', '-r', '--depth', '-1', '--json']));
const publishable = workspace.filter((p) => !p.private).sort((a, b) => a.path.localeCompare(b.path));
const out = mkdtempSync(join(tmpdir(), 'msg-check-packages-'));
let failed = 0;

try {
  for (const { name, path } of publishable) {
    const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
    const { filename } = JSON.parse(run('pnpm', ['pack', '--pack-destination', out, '--json'], path));
    const problems = [];

    // strict: a publint warning (e.g. a file an entry points at but `files` leaves out) fails too.
    const { messages, pkg } = await publint({ pack: { tarball: new Uint8Array(readFileSync(filename)).buffer }, strict: true });
    for (const m of messages) {
      const line = `publint ${m.type}: ${formatMessage(m, pkg, { color: false })}`;
      if (m.type === 'suggestion') console.log(`  ${name}: ${line}`);
      else problems.push(line);
    }

    // A bin-only package (apps/cli) has no importable entry, so attw's "no-resolution" would be the only thing it could say.
    const importable = ['exports', 'main', 'module', 'types', 'typings'].some((field) => field in manifest);
    if (importable) {
      try {
        // esm-only: these packages are ESM-only by design, so require() from CJS and node10 resolution are not goals.
        run(attw, [filename, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji']);
      } catch (error) {
        problems.push(`attw:\n${String(error.stdout || error.stderr || error.message).trim()}`);
      }
    }

    const checks = importable ? 'publint, attw' : 'publint (bin only)';
    if (problems.length === 0) console.log(`ok    ${name} (${relative(root, path)}): ${checks}`);
    else {
      failed++;
      console.log(`FAIL  ${name} (${relative(root, path)}): ${checks}`);
      for (const p of problems) console.log(p.replace(/^/gm, '      '));
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

console.log(`${publishable.length - failed}/${publishable.length} publishable packages pass`);
process.exit(failed ? 1 : 0);
