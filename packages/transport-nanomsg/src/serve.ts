// Serving on a cooked REP or RESPONDENT socket. Such a socket answers the request it received last,
// and receiving the next one forgets the previous, so requests are taken one at a time: the socket
// is read again only once the answer is sent.

import type { NanoSocket } from './socket.js';

/** What to send back for `frame`, or undefined when the frame wants no answer. Never rejects. */
export type Answer = (frame: Buffer) => Promise<Uint8Array | undefined> | undefined;

export function serveInTurn(socket: NanoSocket, answer: Answer): void {
  const next = (): void => {
    for (;;) {
      const frame = socket.receive();
      if (!frame) {
        socket.listen(next);
        return;
      }
      const pending = answer(frame);
      if (pending === undefined) continue;
      socket.pause();
      void pending.then((reply) => {
        try {
          if (reply) socket.send(reply);
        } catch {
          // The asker is gone or the socket closed: nanomsg would drop the answer anyway.
        }
        next();
      });
      return;
    }
  };
  socket.listen(next);
}
