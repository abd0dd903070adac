// UDP beacons, as Zyre sends them: every node sends its announcement to one multicast group (or
// broadcast address) and port, and hears everyone's there. Several processes on one host share the
// port (SO_REUSEADDR): Linux hands each of them a copy of every multicast and broadcast datagram.

import { type Socket, createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { ConnectionError, InvalidArgumentError } from '@msg/core';
import type { Meeting } from './discovery.js';

export interface BeaconOptions {
  /** A multicast group (224.0.0.0/4) or a broadcast address such as `10.0.0.255`. Default `239.255.77.77`. */
  address?: string;
  /** Default 5670, Zyre's. */
  port?: number;
  /**
   * The local IPv4 address of the interface the beacons go out on (and the group is joined on).
   * Default `127.0.0.1`: beacons stay on this host unless an interface is named.
   */
  interface?: string;
}

export const DEFAULT_BEACON = { address: '239.255.77.77', port: 5670, interface: '127.0.0.1' } as const;

const isMulticast = (address: string) => {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
};

export function udpBeacon(options: BeaconOptions = {}): Meeting {
  const address = options.address ?? DEFAULT_BEACON.address;
  const port = options.port ?? DEFAULT_BEACON.port;
  const local = options.interface ?? DEFAULT_BEACON.interface;
  if (!isIPv4(address) || !isIPv4(local)) throw new InvalidArgumentError(`discovery beacons are IPv4: give an IPv4 group or broadcast address and interface, got ${address} on ${local}`);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError(`the beacon port must be 1-65535, got ${port}`);
  let socket: Socket | undefined;
  return {
    start: (hear) =>
      new Promise((resolve, reject) => {
        const s = createSocket({ type: 'udp4', reuseAddr: true });
        socket = s;
        s.once('error', (error) => reject(new ConnectionError(`discovery: cannot listen for beacons on port ${port}: ${error.message}`, { cause: error })));
        s.on('message', (packet) => hear(packet));
        s.bind(port, () => {
          try {
            if (isMulticast(address)) {
              s.addMembership(address, local);
              s.setMulticastInterface(local);
              s.setMulticastTTL(1);
              s.setMulticastLoopback(true);
            } else s.setBroadcast(true);
          } catch (error) {
            s.close();
            reject(new ConnectionError(`discovery: cannot join ${address} on ${local}: ${(error as Error).message}`, { cause: error }));
            return;
          }
          // Later socket errors (a send refused) are reported by announce; none may crash the process.
          s.removeAllListeners('error');
          s.on('error', () => undefined);
          resolve();
        });
      }),
    announce: (packet) =>
      new Promise((resolve, reject) => {
        if (!socket) return resolve();
        socket.send(packet, port, address, (error) => (error ? reject(error) : resolve()));
      }),
    close: () =>
      new Promise((resolve) => {
        if (!socket) return resolve();
        socket.close(() => resolve());
        socket = undefined;
      }),
  };
}
