// A hostile ZMTP peer over a raw TCP socket: it speaks just enough ZMTP 3.0 (the NULL mechanism) to
// get past the handshake, then streams frames marked "more" so that the message never ends.

import { connect } from 'node:net';

export interface Flood {
  /** Bytes of frames the kernel took from us before we stopped or were cut off. */
  readonly sent: number;
  /** True when the other side closed the connection before we had sent everything. */
  readonly cutOff: boolean;
  /** Closes our side and resolves once the connection is gone. */
  close(): Promise<void>;
}

function greeting(): Buffer {
  const bytes = Buffer.alloc(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = 3; // version 3.0
  bytes.write('NULL', 12, 'latin1');
  return bytes;
}

/** The READY command of the NULL mechanism, with the one property every peer must send. */
function ready(socketType: string): Buffer {
  const name = Buffer.from('Socket-Type', 'latin1');
  const value = Buffer.from(socketType, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  const body = Buffer.concat([Buffer.from([5]), Buffer.from('READY', 'latin1'), Buffer.from([name.length]), name, length, value]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/**
 * One frame of `size` bytes with the MORE flag set. Its body starts with 1, as a subscription
 * does, so that a publisher takes it in as well.
 */
function moreFrame(size: number): Buffer {
  const header = Buffer.alloc(9);
  header[0] = 0x03; // MORE | LONG
  header.writeBigUInt64BE(BigInt(size), 1);
  const body = Buffer.alloc(size, 0x61);
  body[0] = 1;
  return Buffer.concat([header, body]);
}

/**
 * Connects to `port` on loopback as a `socketType` peer and sends `total` bytes in frames of
 * `frameSize`, all marked "more", waiting for the kernel to take each; stops early when cut off or
 * after `ms`. The connection stays open until `close()`, so that what it made the other side hold
 * can be measured while it is there.
 */
export function flood(port: number, options: { socketType: string; frameSize: number; total: number; ms: number }): Promise<Flood> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const frame = moreFrame(options.frameSize);
    let queued = 0;
    let sent = 0;
    let cutOff = false;
    let done = false;
    const closed = new Promise<void>((settle) => socket.once('close', () => settle()));
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        sent,
        cutOff,
        close: () => {
          socket.destroy();
          return closed;
        },
      });
    };
    const timer = setTimeout(finish, options.ms);
    socket.on('error', (error) => (sent === 0 && !done ? reject(error) : undefined));
    socket.once('close', () => {
      cutOff = sent < options.total;
      finish();
    });
    // The other side's greeting and READY come first; then we send ours and start. The rest of what
    // it says is read and ignored.
    let heard = 0;
    socket.on('data', (chunk: Buffer) => {
      if (heard >= 64 + 2) return;
      heard += chunk.length;
      if (heard >= 64 + 2) {
        socket.write(ready(options.socketType));
        pump();
      }
    });
    const pump = () => {
      while (!done && !socket.destroyed && queued < options.total) {
        queued += options.frameSize;
        const more = socket.write(frame, (error) => {
          if (!error) sent += options.frameSize;
          if (sent >= options.total) finish();
        });
        if (!more) return socket.once('drain', pump);
      }
    };
    socket.once('connect', () => socket.write(greeting()));
  });
}
