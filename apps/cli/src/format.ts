// How received messages are printed: one message a line (raw writes the bytes alone, as nanocat does).
import type { Message } from '@msg/core';

export const FORMATS = ['text', 'raw', 'hex', 'json'] as const;
export type Format = (typeof FORMATS)[number];

const decoder = new TextDecoder();

export function formatMessage(message: Message, format: Format): Uint8Array | string {
  switch (format) {
    case 'raw':
      return message.data;
    case 'hex':
      return `${Buffer.from(message.data).toString('hex')}\n`;
    case 'json':
      return `${JSON.stringify({
        subject: message.subject,
        id: message.id,
        headers: message.headers,
        data: decoder.decode(message.data),
      })}\n`;
    default:
      return `${decoder.decode(message.data)}\n`;
  }
}

export function print(message: Message, format: Format): void {
  process.stdout.write(formatMessage(message, format));
}
