// msg against native peers, nanocat-style: nanocat for nanomsg, pyzmq scripts for ZeroMQ, each end
// a subprocess, each side given only --bind or --connect endpoints on loopback.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Result, msg, start } from './run.js';

/** Debian's python3-zmq is installed for this interpreter only. */
const PYTHON = '/usr/bin/python3';
const PEERS = fileURLToPath(new URL('../../../packages/transport-zmq/test/peers/', import.meta.url));

const missing = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status !== 0;
const noNanocat = missing('nanocat', ['--help']);
const noPyzmq = missing(PYTHON, ['-c', 'import zmq']);

/** A TCP endpoint on 127.0.0.1 whose port was free a moment ago. */
function freeEndpoint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`tcp://127.0.0.1:${port}`));
    });
  });
}

/** A native program run for at most 30 s; its standard output, one entry per line. */
class Native {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #gone: Promise<void>;
  #changed: (() => void) | undefined;

  constructor(command: string, args: string[]) {
    this.#child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lifetime = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
    let rest = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts.filter((part) => part.length > 0));
      this.#changed?.();
    });
    this.#child.stderr?.resume();
    this.#gone = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    void this.#gone.then(() => {
      clearTimeout(lifetime);
      this.#changed?.();
    });
  }

  /** The first line that `match` accepts; rejects once the program exits or after `ms`. */
  line(match: (line: string) => boolean, ms = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no such line within ${ms} ms; got ${JSON.stringify(this.lines)}`)), ms);
      const finish = (outcome: string | Error) => {
        clearTimeout(timer);
        this.#changed = undefined;
        if (typeof outcome === 'string') resolve(outcome);
        else reject(outcome);
      };
      this.#changed = () => {
        const found = this.lines.find(match);
        if (found !== undefined) finish(found);
        else if (this.#child.exitCode !== null || this.#child.signalCode !== null) finish(new Error(`exited; printed ${JSON.stringify(this.lines)}`));
      };
      this.#changed();
    });
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#gone;
  }
}

const natives: Native[] = [];
const children: ChildProcess[] = [];

function native(command: string, args: string[]): Native {
  const peer = new Native(command, args);
  natives.push(peer);
  return peer;
}

/** A long-running msg, started and ready (it said so on stderr); `done` settles when it exits. */
async function serving(args: string[], ready: RegExp): Promise<{ done: Promise<Result> }> {
  const { child, done } = await start(args, ready);
  children.push(child);
  return { done };
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(natives.splice(0).map((peer) => peer.kill()));
});

describe.skipIf(noNanocat)(`msg --transport nanomsg against nanocat${noNanocat ? ' [SKIPPED: nanocat is not installed]' : ''}`, () => {
  it('req --connect asks nanocat --rep --bind and prints its answer; nanocat gets the bare payload', async () => {
    const endpoint = await freeEndpoint();
    const replier = native('nanocat', ['--rep', '--bind', endpoint, '--data', 'pong', '--ascii']);
    const result = await msg(['req', '--transport', 'nanomsg', '--connect', endpoint, '--service', 'anything', '--data', 'ping', '--timeout', '10000']);
    expect(result).toMatchObject({ code: 0, stdout: 'pong\n' });
    expect(await replier.line((line) => line === 'ping')).toBe('ping');
  });

  it('rep --bind --echo answers nanocat --req --connect, and prints the request', async () => {
    const endpoint = await freeEndpoint();
    const { done } = await serving(['rep', '--transport', 'nanomsg', '--bind', endpoint, '--service', 'echo', '--echo', '--count', '1'], /serving/);
    const requester = native('nanocat', ['--req', '--connect', endpoint, '--data', 'hello', '--ascii']);
    expect(await requester.line((line) => line === 'hello')).toBe('hello');
    expect(await done).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('respond --connect answers nanocat --surveyor --bind, whose question is "TOPIC payload"', async () => {
    const endpoint = await freeEndpoint();
    const { done } = await serving(['respond', '--transport', 'nanomsg', '--connect', endpoint, '--topic', 'health', '--reply', 'ok', '--count', '1'], /serving/);
    // nanocat asks again every second: a question sent before msg's connection is up is lost.
    const surveyor = native('nanocat', ['--surveyor', '--bind', endpoint, '--data', 'health ping', '--interval', '1', '--ascii']);
    expect(await surveyor.line((line) => line === 'ok')).toBe('ok');
    expect(await done).toMatchObject({ code: 0, stdout: 'ping\n' });
  });

  it('survey --connect hears nanocat --respondent --bind, which receives "TOPIC payload"', async () => {
    const endpoint = await freeEndpoint();
    const respondent = native('nanocat', ['--respondent', '--bind', endpoint, '--data', 'up', '--ascii']);
    // A survey goes out at once, and is lost when msg's connection is not up yet; nothing says when
    // it is, so ask again, a bounded number of times.
    let result: Result | undefined;
    for (let attempt = 0; attempt < 15 && result?.code !== 0; attempt++) {
      result = await msg(['survey', '--transport', 'nanomsg', '--connect', endpoint, '--topic', 'health', '--data', 'ping', '--deadline', '300']);
    }
    expect(result).toMatchObject({ code: 0, stdout: 'up\n' });
    expect(await respondent.line((line) => line === 'health ping')).toBe('health ping');
  });

  it('sub --connect receives what nanocat --pub --bind publishes as "TOPIC payload"', async () => {
    const endpoint = await freeEndpoint();
    native('nanocat', ['--pub', '--bind', endpoint, '--data', 'news.today sunny', '--interval', '0.1']);
    const result = await msg(['sub', '--transport', 'nanomsg', '--connect', endpoint, '--topic', 'news.*', '--count', '1', '--format', 'json'], { timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: 'news.today', data: 'sunny' });
  });

  it('pub --bind reaches nanocat --sub --connect subscribed to "TOPIC " as plain "TOPIC payload"', async () => {
    const endpoint = await freeEndpoint();
    const subscriber = native('nanocat', ['--sub', '--connect', endpoint, '--subscribe', 'news ', '--ascii']);
    // Publishes until nanocat has its subscription in place (it cannot say when), at most 150 times.
    const publishing = msg(['pub', '--transport', 'nanomsg', '--bind', endpoint, '--topic', 'news', '--data', 'rain', '--count', '150', '--interval', '20']);
    expect(await subscriber.line((line) => line === 'news rain')).toBe('news rain');
    expect((await publishing).code).toBe(0);
  });
});

describe.skipIf(noPyzmq)(`msg --transport zmq against pyzmq peers${noPyzmq ? ` [SKIPPED: ${PYTHON} has no zmq module]` : ''}`, () => {
  const python = (script: string, args: string[]) => native(PYTHON, [PEERS + script, ...args]);
  const frames = (line: string) => line.split(' ').map((hex) => Buffer.from(hex, 'hex'));

  it('rep --bind --echo answers a Python REQ: the reply payload is its first frame', async () => {
    const endpoint = await freeEndpoint();
    const { done } = await serving(['rep', '--transport', 'zmq', '--bind', endpoint, '--service', 'echo', '--echo', '--count', '1'], /serving/);
    const requester = python('req_client.py', [endpoint, 'hello']);
    const [payload] = frames(await requester.line(() => true));
    expect(payload?.toString()).toBe('hello');
    expect(await done).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('req --connect asks a Python ROUTER bound on the endpoint and prints its answer', async () => {
    const endpoint = await freeEndpoint();
    const replier = python('router_replier.py', [endpoint]);
    await replier.line((line) => line.startsWith('ready'));
    const result = await msg(['req', '--transport', 'zmq', '--connect', endpoint, '--service', 'price', '--data', 'apple', '--timeout', '10000']);
    expect(result).toMatchObject({ code: 0, stdout: 'py:apple\n' });
  });

  it('pub --bind reaches a Python SUB connected to it: [topic, payload, meta]', async () => {
    const endpoint = await freeEndpoint();
    const subscriber = python('sub_reader.py', [endpoint, 'weather']);
    // Publishes until the SUB's subscription has reached msg (the slow joiner), at most 150 times.
    const publishing = msg(['pub', '--transport', 'zmq', '--bind', endpoint, '--topic', 'weather.paris', '--data', 'sunny', '--count', '150', '--interval', '20']);
    const [topic, payload] = frames(await subscriber.line((line) => line !== 'ready'));
    expect(topic?.toString()).toBe('weather.paris');
    expect(payload?.toString()).toBe('sunny');
    expect((await publishing).code).toBe(0);
  });

  it('sub --connect receives what a Python PUB bound on the endpoint sends as [topic, payload]', async () => {
    const publisher = python('pub_writer.py', ['alerts.fire', 'evacuate']);
    const endpoint = (await publisher.line((line) => line.startsWith('ready'))).split(' ')[1] as string;
    const result = await msg(['sub', '--transport', 'zmq', '--connect', endpoint, '--topic', 'alerts.>', '--count', '1', '--format', 'json'], { timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: 'alerts.fire', data: 'evacuate' });
  });
});
