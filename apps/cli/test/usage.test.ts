import { describe, expect, it } from 'vitest';
import { msg } from './run.js';

describe('msg usage and exit codes', () => {
  it('--help exits 0 and lists every verb', async () => {
    const result = await msg(['--help']);
    expect(result.code).toBe(0);
    for (const verb of ['req', 'rep', 'pub', 'sub', 'survey', 'respond', 'bus']) expect(result.stdout).toContain(verb);
  });

  it('a missing verb or option exits 2', async () => {
    expect((await msg([])).code).toBe(2);
    const result = await msg(['req', '--service', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--transport/);
  });

  it('an unknown transport exits 2 with one line naming the known ones', async () => {
    const result = await msg(['pub', '--transport', 'carrier-pigeon', '--topic', 'x', '--data', 'hi']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/unknown transport "carrier-pigeon"; use one of .*nats/);
  });

  it('an invalid name exits 2 and says which character', async () => {
    const result = await msg(['sub', '--transport', 'inproc', '--topic', 'orders created']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/INVALID_NAME: .*position 6/);
  });

  it('a request nobody serves exits 3', async () => {
    const result = await msg(['req', '--transport', 'inproc', '--service', 'nobody', '--data', 'hi', '--timeout', '300']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^msg: NO_RESPONDERS: /);
  });

  it('rep keeps serving, even on a transport with no socket, until its --timeout (exit 3)', async () => {
    const result = await msg(['rep', '--transport', 'inproc', '--service', 'idle', '--echo', '--timeout', '300']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/serving service "idle"[\s\S]*TIMEOUT: nothing more within 300 ms/);
  });

  it('--echo and --reply together exit 2', async () => {
    const result = await msg(['rep', '--transport', 'inproc', '--service', 'x', '--echo', '--reply', 'no']);
    expect(result.code).toBe(2);
  });

  it('a brokerless transport given a --discovery beacon that is no IPv4 address exits 2 and says so', async () => {
    const result = await msg(['sub', '--transport', 'zmq', '--topic', 'x', '--discovery', 'udp://nowhere:5670']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/INVALID_ARGUMENT: discovery beacons are IPv4/);
  });
});
