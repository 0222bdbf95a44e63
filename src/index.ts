export { JobhookError, ERROR_CODES, isJobhookError, type JobhookErrorCode } from './errors.js';
export type * from './types.js';
export {
  callbackPath,
  callbackUrl,
  createKeyring,
  generateSecret,
  normalizePathPrefix,
  verifyCallbackPath,
  type Keyring,
} from './callback/callback-url.js';
export { newRequestId, isRequestId } from './callback/request-id.js';
export { parseEnvelope, isTerminalStatus, type EnvelopeParse } from './ringcentral/envelope.js';
export type { Store, NewRequest, RequestQuery } from './store/store.js';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
export { createReceiver, DEFAULT_MAX_BODY_BYTES, type Receiver, type ReceiverOptions } from './receiver/receiver.js';
export {
  createEnvelopeIndexer,
  type EnvelopeIndexer,
  type EnvelopeIndexerOptions,
} from './receiver/envelope-indexer.js';
export { createGroupCommit, type GroupCommit } from './receiver/group-commit.js';
export { createMinter, type Mint, type MintInput, type MintedRequest, type MinterOptions } from './client/minter.js';
export { createLocalApi, type LocalApi, type LocalApiOptions } from './inspector/local-api.js';
