export type {
  BusMember,
  Capabilities,
  DeadLetterOptions,
  ManualAckOptions,
  MessageStream,
  Pattern,
  PublishOptions,
  ReplyHandler,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  SurveyOptions,
  SurveyResponses,
  Transport,
} from './transport.js';
export type { AckableMessage, Headers, Message, NackOptions, Reply } from './message.js';
export {
  DEAD_LETTER_ATTEMPTS_HEADER,
  DEAD_LETTER_ERROR_HEADER,
  DEAD_LETTER_ID_HEADER,
  DEAD_LETTER_SOURCE_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  RESERVED_HEADER_PREFIX,
  nextId,
} from './message.js';
export * from './errors.js';
export { MAX_NAME_LENGTH, hasWildcard, matchSubject, validateName, validatePattern } from './names.js';
export { bytes, json, jsonOf, text } from './codec.js';
export type { Codec } from './codec.js';
export type { Backend, BackendSubscribeOptions, BusLink, Deliver, Serve, Settle, Stop } from './backend.js';
export { DEFAULT_MAX_PENDING, DEFAULT_REQUEST_TIMEOUT_MS, createTransport } from './create-transport.js';
export type { RequestCall } from './call.js';
export { MessageQueue } from './queue.js';
export { STATUS_BUFFER, StatusFeed } from './status.js';
export type { StatusEvent, StatusListener, StatusOptions, StatusStream } from './status.js';
export type { QueueAcks } from './queue.js';
export { PendingReplies } from './pending.js';
export { ENVELOPE_MAGIC, ENVELOPE_VERSION, Kind, decodeEnvelope, encodeEnvelope, isEnvelope } from './envelope.js';
export type { Envelope } from './envelope.js';
export { Registry, connect, registerTransport, registry } from './registry.js';
export type { TransportFactory } from './registry.js';
