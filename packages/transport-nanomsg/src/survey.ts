// Surveys over the transport's SURVEYOR socket, answered by one RESPONDENT socket per respondent.
// The question frame is TOPIC SP BODY, so every respondent hears every survey and answers only its
// topic's; the answer is BODY alone, in the form the question came in (envelope or plain).

import { type Deliver, type Message, type Serve, type Stop, ERROR_HEADER, Kind } from '@msg/core';
import type { Ear } from './links.js';
import type { Mesh } from './mesh.js';
import { nn } from './native.js';
import { serveInTurn } from './serve.js';
import { NanoSocket, badFrame } from './socket.js';
import { type Wire, encodeBody, encodeNamed, isProbe, readBody, wireOf } from './wire.js';

/** The core ends each survey at its deadline; nanomsg's own deadline must never end it earlier. */
const NANOMSG_DEADLINE_MS = 2 ** 31 - 1;

export class Surveys {
  /** Settles when the running survey ends: a new survey on a SURVEYOR cancels the one before. */
  #turn: Promise<void> = Promise.resolve();

  constructor(
    readonly mesh: Mesh,
    readonly wire: Wire,
  ) {
    mesh.surveyor.setOption(nn.NN_SURVEYOR_DEADLINE, NANOMSG_DEADLINE_MS);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    const previous = this.#turn;
    let release!: () => void;
    this.#turn = new Promise((resolve) => (release = resolve));
    await previous;
    if (signal.aborted) return release();
    const socket = this.mesh.surveyor;
    this.mesh.surveying = true;
    signal.addEventListener(
      'abort',
      () => {
        socket.pause();
        this.mesh.surveying = false;
        release();
      },
      { once: true },
    );
    socket.send(encodeNamed(Kind.survey, question, this.wire));
    socket.listen(() => {
      for (;;) {
        const frame = socket.receive();
        if (!frame) {
          // Readable with nothing to read: nanomsg says no survey is running (ETIMEDOUT or EFSM).
          const error = socket.lastError();
          if (error !== nn.EAGAIN) socket.pause();
          return;
        }
        let answer: Message;
        try {
          answer = readBody(frame, question.subject, question.id);
        } catch (error) {
          badFrame(this.mesh.settings, `the survey on "${question.subject}"`, error); // a malformed answer is no answer
          continue;
        }
        if (answer.id === question.id) deliver(answer);
      }
    });
  }
}

export class Respondent {
  readonly #socket: NanoSocket;
  readonly #ear: Ear;
  readonly #prefix: Buffer;

  constructor(
    readonly mesh: Mesh,
    readonly topic: string,
    serve: Serve,
  ) {
    this.#socket = new NanoSocket('respondent', mesh.settings);
    this.#ear = { kind: 'survey', owner: mesh.id, heard: new Set() };
    this.#prefix = Buffer.from(`${topic} `);
    const prefix = this.#prefix;
    serveInTurn(this.#socket, (frame) => {
      if (isProbe(frame)) {
        mesh.hear(this.#ear, frame);
        return undefined;
      }
      if (frame.length < prefix.length || prefix.compare(frame, 0, prefix.length) !== 0) return undefined;
      const body = frame.subarray(prefix.length);
      let question: Message;
      try {
        question = readBody(body, topic);
      } catch (error) {
        badFrame(this.mesh.settings, `the respondent on "${topic}"`, error);
        return undefined;
      }
      const wire = wireOf(body);
      return serve(question).then((answer) => {
        // A native surveyor cannot tell an error from an answer, so a failed handler answers nothing.
        if (wire === 'plain' && answer.headers[ERROR_HEADER] !== undefined) return undefined;
        return encodeBody(Kind.answer, answer, wire);
      });
    });
  }

  /** Resolves once every surveyor of the directory reaches this respondent. */
  async start(timeoutMs: number): Promise<Stop> {
    try {
      await this.mesh.addRespondent(this.#socket, this.#ear, timeoutMs);
    } catch (error) {
      this.stop();
      throw error;
    }
    return async () => this.stop();
  }

  stop(): void {
    this.mesh.removeRespondent(this.#socket, this.#ear);
    this.#socket.close();
  }
}
