import { describe, expect, it } from 'vitest';
import { Registry, type Transport, type TransportFactory } from '../src/index.js';

function fakeFactory(schemes: string[], seen: string[]): TransportFactory {
  return {
    schemes,
    connect: async (url) => {
      seen.push(url.href);
      return { name: schemes[0] } as unknown as Transport;
    },
  };
}

describe('registry', () => {
  it('picks the factory by URL scheme, and several live side by side', async () => {
    const registry = new Registry();
    const seen: string[] = [];
    registry.register(fakeFactory(['nats'], seen));
    registry.register(fakeFactory(['zmq+tcp', 'zmq+ipc'], seen));
    expect((await registry.connect('nats://127.0.0.1:4222')).name).toBe('nats');
    expect((await registry.connect('zmq+tcp://127.0.0.1:5555')).name).toBe('zmq+tcp');
    expect(seen).toEqual(['nats://127.0.0.1:4222', 'zmq+tcp://127.0.0.1:5555']);
    expect(registry.schemes).toEqual(['nats', 'zmq+ipc', 'zmq+tcp']);
  });

  it('an unknown scheme says which are registered and what to import', async () => {
    const registry = new Registry();
    registry.register(fakeFactory(['inproc'], []));
    await expect(registry.connect('kafka://127.0.0.1:9092')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/registered: inproc.*@msg\/transport-kafka/),
    });
  });

  it('a string that is not a URL is INVALID_ARGUMENT', async () => {
    await expect(new Registry().connect('not a url')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
