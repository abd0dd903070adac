// msg against each real broker, both ends run as subprocesses as a user would run them.
import { checkBroker, uniqueName } from '@msg/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { type Result, msg, start } from './run.js';

// Kafka needs seconds where the others need milliseconds (group joins), so its survey deadline and
// per-case time are longer; nothing else about the cases differs.
const brokers = [
  { transport: 'nats', what: 'NATS', port: 4222, deadline: 1000, caseMs: 20_000 },
  { transport: 'redis', what: 'Redis', port: 6379, deadline: 1000, caseMs: 20_000 },
  { transport: 'amqp', what: 'RabbitMQ', port: 5672, deadline: 1000, caseMs: 20_000 },
  { transport: 'mqtt', what: 'Mosquitto', port: 1883, deadline: 1000, caseMs: 20_000 },
  { transport: 'amqp1', what: 'ActiveMQ (AMQP 1.0)', port: 5673, deadline: 1000, caseMs: 20_000 },
  { transport: 'kafka', what: 'Kafka', port: 9092, deadline: 5000, caseMs: 60_000 },
];

const running: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill();
});

/** Starts a serving msg; `done` is wrapped so that awaiting this does not wait for it to exit. */
async function serve(args: string[]): Promise<{ done: Promise<Result> }> {
  const { child, done } = await start(args, /msg: (serving|subscribed)/);
  running.push(child);
  return { done };
}

for (const broker of brokers) {
  const skip = await checkBroker(broker.what, '127.0.0.1', broker.port);
  const t = ['--transport', broker.transport];

  describe.skipIf(skip !== undefined)(`msg on ${broker.transport}${skip ? ` [SKIPPED: ${skip}]` : ''}`, { timeout: broker.caseMs }, () => {
    it('rep --echo answers req, which prints the reply and exits 0', async () => {
      const service = uniqueName('cli');
      const { done: rep } = await serve(['rep', ...t, '--service', service, '--echo', '--count', '1']);
      const req = await msg(['req', ...t, '--service', service, '--data', 'hello']);
      expect(req).toMatchObject({ code: 0, stdout: 'hello\n' });
      expect(await rep).toMatchObject({ code: 0, stdout: 'hello\n' });
    });

    it('req sends each line of standard input and prints replies in the chosen format', async () => {
      const service = uniqueName('cli');
      await serve(['rep', ...t, '--service', service, '--reply', 'ok']);
      const req = await msg(['req', ...t, '--service', service, '--format', 'hex'], { input: 'a\nb\n' });
      expect(req).toMatchObject({ code: 0, stdout: '6f6b\n6f6b\n' });
    });

    it('req with nobody serving exits 3', async () => {
      const req = await msg(['req', ...t, '--service', uniqueName('nobody'), '--data', 'x', '--timeout', '500']);
      expect(req.code).toBe(3);
      expect(req.stderr).toMatch(/^msg: (TIMEOUT|NO_RESPONDERS): /);
    });

    it('sub prints what pub sends, as JSON lines, and exits after --count', async () => {
      const topic = uniqueName('cli');
      const { done: sub } = await serve(['sub', ...t, '--topic', topic, '--count', '2', '--format', 'json']);
      expect((await msg(['pub', ...t, '--topic', topic], { input: 'one\ntwo\n' })).code).toBe(0);
      const result = await sub;
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { subject: string; data: string });
      expect(lines.map((line) => line.data)).toEqual(['one', 'two']);
      expect(lines[0]?.subject).toBe(topic);
    });

    it('sub exits as soon as --count messages arrived, not when its --timeout would end', async () => {
      const topic = uniqueName('cli');
      const { done } = await serve(['sub', ...t, '--topic', topic, '--count', '1', '--timeout', '600000']);
      expect((await msg(['pub', ...t, '--topic', topic, '--data', 'once'])).code).toBe(0);
      expect(await done).toMatchObject({ code: 0, stdout: 'once\n' });
    });

    it('survey prints every respondent\'s answer; with none it exits 3', async () => {
      const topic = uniqueName('cli');
      await serve(['respond', ...t, '--topic', topic, '--reply', 'alive']);
      const survey = await msg(['survey', ...t, '--topic', topic, '--data', '?', '--deadline', String(broker.deadline)]);
      expect(survey).toMatchObject({ code: 0, stdout: 'alive\n' });
      const nobody = await msg(['survey', ...t, '--topic', uniqueName('cli'), '--data', '?', '--deadline', '300']);
      expect(nobody.code).toBe(3);
    });

    it('bus: a member receives what another sends', async () => {
      const group = uniqueName('cli');
      const { child, done } = await start(['bus', ...t, '--topic', group, '--count', '1'], /msg: joined/);
      running.push(child);
      expect((await msg(['bus', ...t, '--topic', group, '--data', 'hi all', '--count', '0'])).code).toBe(0);
      expect(await done).toMatchObject({ code: 0, stdout: 'hi all\n' });
    });
  });
}

describe('msg with an unreachable server', () => {
  it('exits 4 with a connection error on one line', async () => {
    const result = await msg(['pub', '--transport', 'nats', '--url', 'nats://127.0.0.1:1', '--topic', 'x', '--data', 'x']);
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^msg: CONNECTION: /);
  });
});
