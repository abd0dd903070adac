// Loads proto/msg.proto at run time. The repository's proto/ is the one source of truth; the build
// copies it next to the compiled code (dist/proto/) so that an installed package finds it too.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ServiceClientConstructor, type ServiceDefinition, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const candidates = [
  new URL('./proto/msg.proto', import.meta.url), // dist/proto/msg.proto, copied by the build
  new URL('../../../proto/msg.proto', import.meta.url), // the repository's proto/, from src/ or dist/
];

/** Where msg.proto was found. */
export const protoPath: string = (() => {
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`@msg/transport-grpc: msg.proto not found (looked at ${candidates.map((c) => fileURLToPath(c)).join(', ')}); rebuild the package`);
})();

// keepCase keeps field names as written in the proto; bytes as Buffer; enums as their names;
// defaults so that absent fields read as their zero values.
const definition = loadSync(protoPath, { keepCase: true, enums: String, bytes: Buffer, defaults: true, oneofs: true });
const messaging = (loadPackageDefinition(definition) as unknown as { msg: { v1: { Messaging: ServiceClientConstructor } } }).msg.v1.Messaging;

/** The Messaging service, for Server.addService. */
export const messagingService: ServiceDefinition = messaging.service;
/** Client constructor of the Messaging service. */
export const MessagingClient: ServiceClientConstructor = messaging;
