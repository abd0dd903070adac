// A transport's broadcast sockets (PUB, SURVEYOR, BUS bound; SUB connected) and their links to every
// peer in the directory. nanomsg says nothing when a connection is up, and a broadcast sent before then
// is lost, so links are proven: a transport sends a probe frame (0x01 + its id) on each broadcast
// socket until every receiving socket of every peer has heard it. Creating a transport, and adding a
// respondent, resolve once their links are proven, so later messages reach them.
//
// Closing is the reverse. nanomsg holds a received frame in its pipe until nn_recv takes it, and
// drops it when the pipe ends, which it does when the sender closes its socket or the receiver
// disconnects from it: so a frame sent just before close is lost unless the peer has read it by then.
// A closing transport therefore sends a farewell (0x02 + its id) on PUB and BUS, after everything it
// sent there, and waits until every receiving socket that heard its probe has read the farewell:
// a pipe keeps order, so that peer has read everything before it.
//
// Transports of other processes, found by discovery, cannot tell this one what they heard. So while
// the directory lists any, every transport also probes at a slower pace for as long as it lives, and
// what receives (creating a transport, subscribe, respond, join) waits a bounded time until its
// socket has heard every such peer: a link to a peer that died but is still listed cannot be proven.
// On close, a transport linked to such peers keeps its PUB and BUS sockets open a while in the
// background, for them to read what it sent last.

import { ConnectionError, nextId } from '@msg/core';
import type { Directory, Peer, PeerEndpoints } from '@msg/discovery';
import { type Ear, type Links, linksOf } from './links.js';
import { NanoSocket, type SocketSettings } from './socket.js';
import { isFarewell, isProbe } from './wire.js';

const PROBE_INTERVAL_MS = 10;
/** Probes for the transports of other processes, which never say they heard. */
const REMOTE_PROBE_INTERVAL_MS = 50;
/** How long a receiving socket waits to hear the transports of other processes (see above). */
export const REMOTE_WAIT_MS = 500;
/**
 * How long the PUB and BUS sockets of a closed transport linked to transports of other processes
 * stay open in the background, for them to read what it sent last (as ZeroMQ's linger).
 */
const REMOTE_LINGER_MS = 2000;
/** How long close waits for its peers to read its farewell (see above). */
export const FAREWELL_TIMEOUT_MS = 1000;
/** Frames read per poll callback, so that a flood cannot starve the rest of the event loop. */
const DRAIN_LIMIT = 1024;

export type Endpoints = Required<PeerEndpoints>;

export class Mesh {
  readonly id = nextId();
  readonly endpoints: Endpoints;
  readonly publisher: NanoSocket;
  readonly subscriber: NanoSocket;
  readonly surveyor: NanoSocket;
  readonly bus: NanoSocket;
  /** True while a survey of ours runs: a probe on the SURVEYOR would cancel it. */
  surveying = false;
  readonly #directory: Directory;
  readonly #links: Links;
  readonly #peer: Peer;
  #unwatch: (() => void) | undefined;
  #unlist: (() => void) | undefined;
  readonly #ears: Ear[];
  readonly #respondents = new Set<NanoSocket>();
  readonly #probe: Buffer;
  readonly #farewell: Buffer;
  /** Sends probes until every link is proven, or, once closing, farewells until every peer read one. */
  #timer: NodeJS.Timeout | undefined;
  /** Probes while the directory lists transports of other processes. */
  #remoteTimer: NodeJS.Timeout | undefined;
  /** Peers of other processes that left, each with the timer that disconnects from it. */
  readonly #leaving = new Set<NodeJS.Timeout>();

  constructor(
    directory: Directory,
    endpoints: Endpoints,
    readonly settings: SocketSettings,
  ) {
    this.#directory = directory;
    this.#links = linksOf(directory);
    this.endpoints = endpoints;
    this.#probe = Buffer.from(`\u0001${this.id}`, 'latin1');
    this.#farewell = Buffer.from(`\u0002${this.id}`, 'latin1');
    this.publisher = new NanoSocket('pub', settings);
    this.subscriber = new NanoSocket('sub', settings);
    this.surveyor = new NanoSocket('surveyor', settings);
    this.bus = new NanoSocket('bus', settings);
    this.#ears = [
      { kind: 'publish', owner: this.id, heard: new Set() },
      { kind: 'bus', owner: this.id, heard: new Set() },
    ];
    this.#peer = { id: this.id, endpoints };
  }

  /**
   * Binds, connects to every peer, and resolves once every link both ways is proven. Frames that are
   * not probes go to `received`.
   */
  async start(timeoutMs: number, received: { publish(frame: Buffer): void; bus(frame: Buffer): void }): Promise<void> {
    const [subscriberEar, busEar] = this.#ears as [Ear, Ear];
    this.subscriber.subscribe('\u0001');
    this.subscriber.subscribe('\u0002');
    this.subscriber.listen(() => this.#drain(this.subscriber, subscriberEar, received.publish));
    this.bus.listen(() => this.#drain(this.bus, busEar, received.bus));
    this.publisher.bind(this.endpoints.publish);
    this.surveyor.bind(this.endpoints.survey);
    this.bus.bind(this.endpoints.bus);
    this.subscriber.connect(this.endpoints.publish);
    for (const peer of this.#directory.peers()) this.#link(peer, true);
    this.#unwatch = this.#directory.watch((change) => {
      if (change.kind !== 'peer' || change.peer === this.#peer) return;
      if (change.added) this.#link(change.peer, false);
      else this.#unlink(change.peer);
      this.#probeRemotes();
    });
    this.#probeRemotes();
    this.#links.probers.set(this.id, () => this.#startProbing());
    this.#unlist = this.#directory.addPeer(this.#peer);
    for (const ear of this.#ears) this.#links.addEar(ear);
    await this.#until(
      () => this.#ears.every((ear) => this.#links.hasHeardAll(ear)) && this.#links.isHeardByAll(this.id),
      timeoutMs,
      'this transport',
    );
    await this.hearRemotes(...this.#ears);
  }

  /** Resolves once each ear (by default this transport's own SUB and BUS) has heard every transport of other processes, or after REMOTE_WAIT_MS. */
  async hearRemotes(...ears: Ear[]): Promise<void> {
    const listening = ears.length > 0 ? ears : this.#ears;
    await this.#whenTrue(() => listening.every((ear) => this.#heardRemotes(ear)), REMOTE_WAIT_MS);
  }

  /** The ear of this transport's SUB (`publish`) or BUS socket. */
  ear(kind: 'publish' | 'bus'): Ear {
    return this.#ears.find((ear) => ear.kind === kind) as Ear;
  }

  #heardRemotes(ear: Ear): boolean {
    for (const peer of this.#directory.peers()) {
      if (peer.id === undefined || peer.origin === undefined || peer.endpoints[ear.kind] === undefined) continue;
      if (!ear.heard.has(peer.id)) return false;
    }
    return true;
  }

  #hasRemotes(): boolean {
    return this.#directory.peers().some((peer) => peer.id !== undefined && peer.origin !== undefined);
  }

  #probeRemotes(): void {
    const wanted = this.#hasRemotes() && !this.publisher.closed;
    if (wanted && !this.#remoteTimer) {
      this.#remoteTimer = setInterval(() => {
        this.publisher.send(this.#probe);
        this.bus.send(this.#probe);
        if (!this.surveying) this.surveyor.send(this.#probe);
      }, REMOTE_PROBE_INTERVAL_MS);
    } else if (!wanted && this.#remoteTimer) {
      clearInterval(this.#remoteTimer);
      this.#remoteTimer = undefined;
    }
  }

  /** Connects a RESPONDENT socket to every SURVEYOR and resolves once each has been heard. */
  async addRespondent(socket: NanoSocket, ear: Ear, timeoutMs: number): Promise<void> {
    this.#respondents.add(socket);
    for (const peer of this.#directory.peers()) if (peer.endpoints.survey) socket.connect(peer.endpoints.survey);
    this.#links.addEar(ear);
    await this.#until(() => this.#links.hasHeardAll(ear), timeoutMs, 'the respondent');
    await this.hearRemotes(ear);
  }

  removeRespondent(socket: NanoSocket, ear: Ear): void {
    this.#respondents.delete(socket);
    this.#links.removeEar(ear);
  }

  /** Records a probe frame heard by `ear`. */
  hear(ear: Ear, frame: Buffer): void {
    const id = frame.toString('latin1', 1);
    if (ear.heard.has(id)) return;
    ear.heard.add(id);
    this.#links.notify();
  }

  /**
   * Sends this transport's farewell on PUB and BUS until every peer whose receiving socket heard it
   * has read the farewell, for at most `timeoutMs`; then `close` loses nothing those peers were sent.
   */
  async farewell(timeoutMs: number): Promise<void> {
    // Nobody waits for this transport's own sockets any more: it is closing.
    for (const ear of this.#ears) this.#links.removeEar(ear);
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sendFarewells(), PROBE_INTERVAL_MS);
    this.#sendFarewells();
    await this.#whenTrue(() => !this.#isHeard('publish') && !this.#isHeard('bus'), timeoutMs);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#remoteTimer);
    this.#remoteTimer = undefined;
    for (const timer of this.#leaving) clearTimeout(timer);
    this.#leaving.clear();
    for (const ear of this.#ears) this.#links.removeEar(ear);
    this.#unwatch?.();
    this.#links.probers.delete(this.id);
    const lingering = this.#hasRemotes();
    this.#unlist?.();
    this.subscriber.close();
    this.surveyor.close();
    this.bus.pause();
    const sending = [this.publisher, this.bus];
    if (!lingering) for (const socket of sending) socket.close();
    else setTimeout(() => sending.forEach((socket) => socket.close()), REMOTE_LINGER_MS).unref();
  }

  #drain(socket: NanoSocket, ear: Ear, onFrame: (frame: Buffer) => void): void {
    for (let i = 0; i < DRAIN_LIMIT; i++) {
      const frame = socket.receive();
      if (!frame) return;
      if (isProbe(frame)) this.hear(ear, frame);
      else if (isFarewell(frame)) this.#forget(ear, frame);
      else onFrame(frame);
    }
  }

  /**
   * Connects to a peer's broadcast sockets. A BUS pipe is two-way, so one side of each pair connects:
   * always to a native peer, the newer of two transports of this process, the smaller id of two
   * transports of different processes.
   */
  #link(peer: Peer, newcomer: boolean): void {
    const { publish, survey, bus } = peer.endpoints;
    if (publish) this.subscriber.connect(publish);
    if (survey) for (const socket of this.#respondents) socket.connect(survey);
    const connects = peer.id === undefined || (peer.origin === undefined ? newcomer : this.id < peer.id);
    if (bus && connects) this.bus.connect(bus);
  }

  /**
   * Disconnects from a peer that left. One of another process (its goodbye can come before what it
   * sent last has been read here: disconnecting drops it) is disconnected once its linger is over.
   */
  #unlink(peer: Peer): void {
    if (peer.origin === undefined) return this.#disconnect(peer);
    const timer = setTimeout(() => {
      this.#leaving.delete(timer);
      this.#disconnect(peer);
    }, REMOTE_LINGER_MS);
    timer.unref();
    this.#leaving.add(timer);
  }

  #disconnect(peer: Peer): void {
    const listed = (endpoint: string) => this.#directory.peers().some((p) => p.endpoints.publish === endpoint || p.endpoints.survey === endpoint || p.endpoints.bus === endpoint);
    const { publish, survey, bus } = peer.endpoints;
    if (publish && !listed(publish)) this.subscriber.disconnect(publish);
    if (survey && !listed(survey)) for (const socket of this.#respondents) socket.disconnect(survey);
    if (bus && !listed(bus)) this.bus.disconnect(bus);
  }

  /** A peer's farewell: everything it sent to `ear` has been read, and it is no longer heard. */
  #forget(ear: Ear, frame: Buffer): void {
    if (ear.heard.delete(frame.toString('latin1', 1))) this.#links.notify();
  }

  /** Whether a receiving socket of another transport still hears this one on `kind`. */
  #isHeard(kind: 'publish' | 'bus'): boolean {
    for (const ear of this.#links.ears()) if (ear.kind === kind && ear.heard.has(this.id)) return true;
    return false;
  }

  #sendFarewells(): void {
    if (this.#isHeard('publish')) this.publisher.send(this.#farewell);
    if (this.#isHeard('bus')) this.bus.send(this.#farewell);
  }

  #startProbing(): void {
    if (this.#timer || this.publisher.closed) return;
    this.#timer = setInterval(() => this.#sendProbes(), PROBE_INTERVAL_MS);
    this.#sendProbes();
  }

  #sendProbes(): void {
    let publish = false;
    let survey = false;
    let bus = false;
    for (const ear of this.#links.ears()) {
      if (ear.heard.has(this.id) || (ear.kind === 'bus' && ear.owner === this.id)) continue;
      if (ear.kind === 'publish') publish = true;
      else if (ear.kind === 'survey') survey = true;
      else bus = true;
    }
    if (publish) this.publisher.send(this.#probe);
    if (survey && !this.surveying) this.surveyor.send(this.#probe);
    if (bus) this.bus.send(this.#probe);
    if (!publish && !survey && !bus) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (!(await this.#whenTrue(condition, timeoutMs))) {
      throw new ConnectionError(`nanomsg: ${what} could not reach every peer of its directory within ${timeoutMs} ms`);
    }
  }

  /** Resolves true once `condition` holds after a change of the directory, or false after `timeoutMs`. */
  #whenTrue(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        done();
        resolve(true);
      };
      const timer = setTimeout(() => {
        done();
        resolve(false);
      }, timeoutMs);
      const unwatch = this.#links.watch(check);
      const done = () => {
        clearTimeout(timer);
        unwatch();
      };
      check();
    });
  }
}
