// One function per verb. Each runs until its --count is reached, its --timeout passes, or Ctrl-C,
// and then closes the transport so the process exits by itself.
import type { Message, Reply, Transport } from '@msg/core';
import { TimeoutError, text } from '@msg/core';
import { serveDiscovery } from '@msg/discovery';
import { type Format, print } from './format.js';
import { type PayloadOptions, payloads } from './payloads.js';

export interface VerbOptions extends PayloadOptions {
  /** Milliseconds to wait before the first send, so peers that connect late are there (as nanocat's --delay). */
  delay?: number;
  service?: string;
  topic?: string;
  interval?: number;
  timeout?: number;
  deadline?: number;
  echo?: boolean;
  reply?: string;
  format: Format;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The abort reason of a verb that finished normally (Ctrl-C or --count), as opposed to an error. */
const FINISHED = Symbol('finished');

/** Stops a long-running verb on Ctrl-C, on --timeout (an error), or when it calls `stop`. */
function lifetime(options: VerbOptions): { signal: AbortSignal; stop: (error?: unknown) => void } {
  const controller = new AbortController();
  const stop = (error?: unknown) => controller.abort(error ?? FINISHED);
  process.once('SIGINT', () => stop());
  process.once('SIGTERM', () => stop());
  // Keeps the process alive while it serves or listens, even on a transport with no socket of its own.
  const alive = setInterval(() => undefined, 1 << 30);
  const timer =
    options.timeout === undefined
      ? undefined
      : setTimeout(() => stop(new TimeoutError(`nothing more within ${options.timeout} ms`)), options.timeout);
  controller.signal.addEventListener('abort', () => {
    clearInterval(alive);
    clearTimeout(timer);
  }, { once: true });
  return { signal: controller.signal, stop };
}

/** Resolves when the signal aborts; rejects with its reason if that is an error. */
function ended(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = () => (signal.reason === FINISHED ? resolve() : reject(signal.reason));
    if (signal.aborted) settle();
    else signal.addEventListener('abort', settle, { once: true });
  });
}

function answerWith(options: VerbOptions): (request: Message) => Reply {
  const fixed = options.reply !== undefined ? text.encode(options.reply) : undefined;
  return (request) => fixed ?? request.data;
}

export async function req(t: Transport, options: VerbOptions & { service: string }): Promise<void> {
  if (options.delay) await sleep(options.delay);
  let first = true;
  for await (const data of payloads(options)) {
    if (!first && options.interval) await sleep(options.interval);
    first = false;
    print(await t.request(options.service, data, { timeout: options.timeout ?? 5000 }), options.format);
  }
}

export async function pub(t: Transport, options: VerbOptions & { topic: string }): Promise<void> {
  if (options.delay) await sleep(options.delay);
  let first = true;
  for await (const data of payloads(options)) {
    if (!first && options.interval) await sleep(options.interval);
    first = false;
    await t.publish(options.topic, data);
  }
}

/** Serves requests (rep) or surveys (respond), printing each, until --count, --timeout or Ctrl-C. */
export async function serve(t: Transport, verb: 'rep' | 'respond', options: VerbOptions & { name: string }): Promise<void> {
  const life = lifetime({ ...options, timeout: options.timeout });
  const answer = answerWith(options);
  let served = 0;
  const handler = (request: Message): Reply => {
    print(request, options.format);
    if (options.count !== undefined && ++served >= options.count) setImmediate(() => life.stop());
    return answer(request);
  };
  await (verb === 'rep' ? t.reply(options.name, handler) : t.respond(options.name, handler));
  process.stderr.write(`msg: serving ${verb === 'rep' ? 'service' : 'surveys on'} "${options.name}"; Ctrl-C to stop\n`);
  await ended(life.signal);
}

export async function sub(t: Transport, options: VerbOptions & { topic: string }): Promise<void> {
  const life = lifetime(options);
  const stream = await t.subscribe(options.topic, { signal: life.signal });
  process.stderr.write(`msg: subscribed to "${options.topic}"; Ctrl-C to stop\n`);
  let received = 0;
  try {
    for await (const message of stream) {
      print(message, options.format);
      if (options.count !== undefined && ++received >= options.count) return;
    }
    await ended(life.signal);
  } finally {
    life.stop();
  }
}

export async function survey(t: Transport, options: VerbOptions & { topic: string }): Promise<void> {
  if (options.delay) await sleep(options.delay);
  let answered = 0;
  for await (const data of payloads({ ...options, count: 1 })) {
    for await (const answer of t.survey(options.topic, data, { deadline: options.deadline ?? 1000, maxResponses: options.count })) {
      print(answer, options.format);
      answered++;
    }
  }
  if (answered === 0) throw new TimeoutError(`no respondent answered "${options.topic}" within the ${options.deadline ?? 1000} ms deadline`);
}

export async function bus(t: Transport, options: VerbOptions & { topic: string }): Promise<void> {
  const life = lifetime(options);
  const member = await t.join(options.topic);
  process.stderr.write(`msg: joined the bus "${options.topic}"; Ctrl-C to stop\n`);
  life.signal.addEventListener('abort', () => void member.leave(), { once: true });
  let received = 0;
  const receiving = (async () => {
    for await (const message of member) {
      print(message, options.format);
      if (options.count !== undefined && ++received >= options.count) return;
    }
  })();
  if (options.data !== undefined || options.file !== undefined) {
    if (options.delay) await sleep(options.delay);
    // --count counts what is received, so the payload is sent once.
    for await (const data of payloads({ ...options, count: 1 })) await member.send(data);
    if (options.count === 0) {
      life.stop();
      return;
    }
  }
  try {
    await Promise.race([receiving, ended(life.signal)]);
  } finally {
    life.stop();
  }
}

/**
 * Runs a discovery node on a transport bound on its known endpoint: it surveys the members that join
 * it and tells each about the others (see @msg/discovery), until --timeout or Ctrl-C.
 */
export async function discoveryNode(t: Transport, options: VerbOptions): Promise<void> {
  const life = lifetime(options);
  const node = serveDiscovery(t, { secret: process.env.MSG_DISCOVERY_SECRET, intervalMs: options.interval });
  process.stderr.write('msg: discovery node surveying its members; Ctrl-C to stop\n');
  try {
    await ended(life.signal);
  } finally {
    await node.close();
  }
}
