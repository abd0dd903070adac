// The bus over the transport's BUS socket. nanomsg's BUS reaches every directly connected peer and
// never echoes, so the mesh keeps one pipe between every two transports, and members of a group in
// this same transport are reached here, without the socket.

import { type BusLink, type Deliver, type Message, Kind } from '@msg/core';
import { badFrame } from './socket.js';
import type { Mesh } from './mesh.js';
import { type Wire, encodeNamed, nameEnd, readBody } from './wire.js';

export class Bus {
  readonly #groups = new Map<string, Set<Deliver>>();

  constructor(
    readonly mesh: Mesh,
    readonly wire: Wire,
  ) {}

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    // Links to this process's peers were proven at start; those to other processes' are proven here.
    await this.mesh.hearRemotes(this.mesh.ear('bus'));
    let members = this.#groups.get(group);
    if (!members) this.#groups.set(group, (members = new Set()));
    members.add(deliver);
    return {
      send: async (message: Message) => {
        this.mesh.bus.send(encodeNamed(Kind.bus, message, this.wire));
        for (const other of members) {
          // Copied, as over a wire: the sender may reuse its buffer once send resolves.
          if (other !== deliver) other({ ...message, data: message.data.slice() });
        }
      },
      leave: async () => {
        members.delete(deliver);
        if (members.size === 0 && this.#groups.get(group) === members) this.#groups.delete(group);
      },
    };
  }

  /** A NAME SP BODY frame from the BUS socket; frames for groups nobody here joined are dropped. */
  received(frame: Buffer): void {
    const end = nameEnd(frame);
    if (end <= 0) return;
    const group = frame.toString('utf8', 0, end);
    const members = this.#groups.get(group);
    if (!members) return;
    let message: Message;
    try {
      message = readBody(frame.subarray(end + 1), group);
    } catch (error) {
      return badFrame(this.mesh.settings, `the bus "${group}"`, error);
    }
    for (const deliver of members) deliver(message);
  }
}
