// Where outgoing payloads come from: --data TEXT, --file PATH, or standard input one message a line.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface PayloadOptions {
  data?: string;
  file?: string;
  count?: number;
}

const encoder = new TextEncoder();

/** Yields the payloads to send: --data or --file repeated --count times (default 1), else stdin lines. */
export async function* payloads(options: PayloadOptions): AsyncGenerator<Uint8Array> {
  if (options.data !== undefined || options.file !== undefined) {
    const bytes = options.file !== undefined ? new Uint8Array(await readFile(options.file)) : encoder.encode(options.data);
    for (let i = 0; i < (options.count ?? 1); i++) yield bytes;
    return;
  }
  let sent = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    yield encoder.encode(line);
    if (options.count !== undefined && ++sent >= options.count) return;
  }
}
