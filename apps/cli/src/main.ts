#!/usr/bin/env node
// msg: a nanocat for every transport. Send, serve, subscribe, survey and join a bus from a shell.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, UsageError, fail } from './exit.js';
import { FORMATS, type Format } from './format.js';
import { type Pattern, TRANSPORTS, open } from './transports.js';
import { type VerbOptions, bus, discoveryNode, pub, req, serve, sub, survey } from './verbs.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of 0 or more');
  return n;
}

interface CliOptions extends Omit<VerbOptions, 'format'> {
  transport: string;
  url?: string;
  bind: string[];
  connect: string[];
  discovery?: string;
  pattern?: Pattern;
  format: Format;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The pattern each verb binds for: its --bind endpoints listen from the start. */
const PATTERNS: Record<string, Pattern | undefined> = { rep: 'reply', pub: 'publish', survey: 'survey', bus: 'bus' };

function verb(program: Command, name: string, summary: string, target: 'service' | 'topic', run: (options: CliOptions) => Promise<void>) {
  const command = program
    .command(name)
    .description(summary)
    .requiredOption('-t, --transport <name>', `one of ${Object.keys(TRANSPORTS).join(', ')}`)
    .option('--url <url>', 'where to connect (default: the transport\'s local server)')
    .option('--bind <endpoint>', 'brokerless transports: an endpoint to bind (repeatable)', collect, [])
    .option('--connect <endpoint>', 'brokerless transports: an endpoint to connect to (repeatable)', collect, [])
    .option('--discovery <how>', 'brokerless transports: udp (the default without endpoints), udp://GROUP:PORT, or discovery nodes EP,EP; the secret is MSG_DISCOVERY_SECRET')
    .addOption(new Option('--format <format>', 'how received messages are printed').choices(FORMATS).default('text'))
    .option('--data <text>', 'the payload')
    .option('--file <path>', 'the payload, read from a file')
    .option('--count <n>', 'how many messages to send or receive, then exit', positiveInt)
    .option('--delay <ms>', 'wait before the first send, for peers that connect late', positiveInt)
    .option('--interval <ms>', 'pause between sends', positiveInt)
    .option('--timeout <ms>', 'give up after this long (exit 3)', positiveInt)
    .option('--deadline <ms>', 'survey deadline (default 1000)', positiveInt)
    .option('--echo', 'rep/respond: answer with what was received')
    .option('--reply <text>', 'rep/respond: answer with this text');
  if (target === 'service') command.requiredOption('-s, --service <name>', 'the service name');
  else command.requiredOption('--topic <name>', name === 'bus' ? 'the bus group' : 'the topic');
  command.action(async (options: CliOptions) => {
    if (options.echo && options.reply !== undefined) throw new UsageError('give --echo or --reply, not both');
    await run({ ...options, pattern: PATTERNS[name] });
  });
}

async function withTransport(options: CliOptions, body: (t: Awaited<ReturnType<typeof open>>) => Promise<void>) {
  const transport = await open(options);
  try {
    await body(transport);
  } finally {
    await transport.close();
  }
}

const program = new Command('msg')
  .description('A nanocat for every msg transport: send, serve, subscribe, survey and join a bus.')
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

verb(program, 'req', 'send requests and print the replies', 'service', (o) =>
  withTransport(o, (t) => req(t, { ...o, service: o.service as string })),
);
verb(program, 'rep', 'serve a service, printing each request', 'service', (o) =>
  withTransport(o, (t) => serve(t, 'rep', { ...o, name: o.service as string })),
);
verb(program, 'pub', 'publish messages', 'topic', (o) => withTransport(o, (t) => pub(t, { ...o, topic: o.topic as string })));
verb(program, 'sub', 'subscribe and print messages (wildcards: * one token, > the rest)', 'topic', (o) =>
  withTransport(o, (t) => sub(t, { ...o, topic: o.topic as string })),
);
verb(program, 'survey', 'ask every respondent and print the answers until the deadline', 'topic', (o) =>
  withTransport(o, (t) => survey(t, { ...o, topic: o.topic as string })),
);
verb(program, 'respond', 'answer surveys, printing each question', 'topic', (o) =>
  withTransport(o, (t) => serve(t, 'respond', { ...o, name: o.topic as string })),
);
verb(program, 'bus', 'join a bus group: send --data and print what the others send', 'topic', (o) =>
  withTransport(o, (t) => bus(t, { ...o, topic: o.topic as string })),
);

program
  .command('discovery')
  .description('run a discovery node on --bind: it surveys the members that join it and tells each about the others')
  .requiredOption('-t, --transport <name>', 'zmq or nanomsg')
  .option('--bind <endpoint>', 'the known endpoint members give as --discovery (repeatable)', collect, [])
  .option('--interval <ms>', 'between two surveys (default 1000; as often as the members announce)', positiveInt)
  .option('--timeout <ms>', 'stop after this long (exit 3)', positiveInt)
  .action(async (options: CliOptions) => {
    if (!TRANSPORTS[options.transport]?.brokerless) throw new UsageError('a discovery node is for the brokerless transports: --transport zmq or nanomsg');
    if (options.bind.length === 0) throw new UsageError('give the endpoint members connect to, e.g. --bind tcp://127.0.0.1:7000');
    await withTransport({ ...options, connect: [], pattern: 'survey' }, (t) => discoveryNode(t, options));
  });

try {
  await program.parseAsync();
  process.exitCode = EXIT.ok;
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are successes; every other parse failure is a usage error.
    process.exit(error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage);
  }
  fail(error);
}
