// The baseline for the gRPC adapter: @grpc/grpc-js directly, bytes in and out with no protobuf. The
// binding side hosts a server; pubsub is one client-streaming call from the publisher; echo is one
// bidirectional stream per client, answered in order, so replies are matched first-in first-out.
import * as grpc from '@grpc/grpc-js';
import type { Driver, Link } from './driver.js';
import { Fifo } from './fifo.js';

const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const PUBLISH = '/bench.Raw/Publish';
const ECHO = '/bench.Raw/Echo';
const service: grpc.ServiceDefinition = {
  Publish: { path: PUBLISH, requestStream: true, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
  Echo: { path: ECHO, requestStream: true, responseStream: true, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
};
const toBuffer = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

class GrpcLink implements Link {
  address?: string;
  #server?: grpc.Server;
  #client?: grpc.Client;
  #stream?: grpc.ClientWritableStream<Buffer>;
  #echo?: grpc.ClientDuplexStream<Buffer, Buffer>;
  readonly #pending = new Fifo<(reply: Buffer | undefined) => void>();
  #onMessage: (data: Uint8Array) => void = () => undefined;

  static async bind(): Promise<GrpcLink> {
    const link = new GrpcLink();
    const server = new grpc.Server();
    server.addService(service, {
      Publish: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        call.on('data', (data: Buffer) => link.#onMessage(data));
        call.on('end', () => callback(null, Buffer.alloc(0)));
        call.on('error', () => undefined);
      },
      Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (data: Buffer) => call.write(data));
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))));
    link.#server = server;
    link.address = `127.0.0.1:${port}`;
    return link;
  }

  static connect(address: string | undefined): GrpcLink {
    const link = new GrpcLink();
    link.#client = new grpc.Client(address ?? '', grpc.credentials.createInsecure());
    return link;
  }

  publish(_topic: string, data: Uint8Array): Promise<void> | void {
    const client = this.#client;
    if (!client) throw new Error('grpc-raw: publish on a bound link');
    this.#stream ??= client.makeClientStreamRequest(PUBLISH, bytes.serialize, bytes.deserialize, () => undefined);
    const stream = this.#stream;
    if (!stream.write(toBuffer(data))) return new Promise((resolve) => stream.once('drain', () => resolve()));
  }

  async subscribe(_topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    this.#onMessage = onMessage;
  }

  async serve(): Promise<void> {
    // The server answers Echo from the start.
  }

  request(_service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const client = this.#client;
    if (!client) return Promise.reject(new Error('grpc-raw: request on a bound link'));
    if (!this.#echo) {
      const echo = client.makeBidiStreamRequest(ECHO, bytes.serialize, bytes.deserialize);
      echo.on('data', (reply: Buffer) => this.#pending.shift()?.(reply));
      const fail = () => {
        for (let settle = this.#pending.shift(); settle; settle = this.#pending.shift()) settle(undefined);
      };
      echo.on('error', fail);
      echo.on('end', fail);
      this.#echo = echo;
    }
    const echo = this.#echo;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`grpc-raw: no reply within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.push((reply) => {
        clearTimeout(timer);
        if (reply) resolve(reply);
        else reject(new Error('grpc-raw: the stream ended'));
      });
      echo.write(toBuffer(data));
    });
  }

  async close(): Promise<void> {
    this.#stream?.end();
    this.#echo?.end();
    this.#client?.close();
    this.#server?.forceShutdown();
  }
}

export const rawGrpcDriver: Driver = {
  open: async (mode, address) => (mode === 'bind' ? GrpcLink.bind() : GrpcLink.connect(address)),
};
