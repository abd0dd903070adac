// Runs the built `msg` binary as a subprocess, as a user's shell would.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../dist/main.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs msg to completion (killed after `timeoutMs`), with optional standard input. */
export function msg(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Starts a long-running msg (rep, sub, respond, bus) and resolves once it says it is ready on stderr. */
export function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; done: Promise<Result> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const done = new Promise<Result>((settle) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        settle({ code, stdout, stderr });
      }),
    );
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (ready.test(stderr)) resolve({ child, done });
    });
    child.on('error', reject);
    void done.then((result) => reject(new Error(`msg ${args.join(' ')} exited before it was ready: ${result.stderr}`)));
  });
}
