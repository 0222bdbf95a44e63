export { JobhookError, ERROR_CODES, isJobhookError, type JobhookErrorCode } from './errors.js';
export type * from './types.js';
export {
  callbackPath,
  callbackUrl,
  createKeyring,
  generateSecret,
  normalizePathPrefix,
  verifyCallbackPath,
  verifyMintedPath,
  type MintedPath,
  type Keyring,
} from './callback/callback-url.js';
export { verificationTokenFor, verifyVerificationToken } from './callback/verification-token.js';
export { newRequestId, isRequestId } from './callback/request-id.js';
export { parseEnvelope, isTerminalStatus, type EnvelopeParse } from './ringcentral/envelope.js';
export type { Store, NewRequest, RequestQuery } from './store/store.js';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/postgres-store.js';
export { createReceiver, DEFAULT_MAX_BODY_BYTES, type Receiver, type ReceiverOptions } from './receiver/receiver.js';
export {
  createEnvelopeIndexer,
  type EnvelopeIndexer,
  type EnvelopeIndexerOptions,
} from './receiver/envelope-indexer.js';
export { createGroupCommit, type GroupCommit } from './receiver/group-commit.js';
export {
  createMinter,
  type Mint,
  type MintInput,
  type MintedRequest,
  type MintedSubscription,
  type MinterOptions,
} from './client/minter.js';
export { createLocalApi, type LocalApi, type LocalApiOptions } from './inspector/local-api.js';
export {
  exportResult,
  exportableFormats,
  buildCues,
  toSrt,
  toVtt,
  toText,
  EXPORT_FORMATS,
  type ExportFormat,
  type Cue,
} from './inspector/exports.js';
export { createJobhook, type Jobhook, type JobhookOptions } from './client/jobhook.js';
export { Job, type ResultOptions } from './client/job.js';
export {
  HandlerRunner,
  type HandlerInput,
  type ResultHandler,
  type EventHandler,
  type EventHandlerInput,
  type InsightsHandler,
  type InsightsHandlerInput,
  type HandlerRunnerOptions,
} from './handlers/handler-runner.js';
export type { NotificationHandlers } from './client/notifications-api.js';
export {
  awaitInsights,
  type AwaitedInsights,
  type AwaitInsightsOptions,
  type InsightsReader,
} from './client/insights-waiter.js';
export {
  backfillRecord,
  backfillWindow,
  type BackfillRecordOptions,
  type BackfillReport,
  type BackfillWindowOptions,
} from './subscriptions/backfill.js';
export {
  ACE_DOMAINS,
  aceEventFilter,
  isAceDomain,
  parseAceInsights,
  parseNotificationEnvelope,
  type AceDomain,
  type AceInsights,
  type AceInsightUnit,
  type AceRecordingInsights,
  type AceSpeaker,
  type NotificationEnvelope,
} from './ringcentral/ace.js';
export { eventMatchesFilter, parseNotification } from './ringcentral/notification.js';
export {
  createForwardHandler,
  generateForwardSecret,
  registerForwarding,
  type ForwardOptions,
} from './client/forwarder.js';
export { SubscriptionKeeper, REMINDER_EVENT_FILTER, type KeeperOptions } from './subscriptions/keeper.js';
export { subscribe, unsubscribe } from './subscriptions/subscribe.js';
export {
  createSubscription,
  listSubscriptions,
  renewSubscription,
  deleteSubscription,
  SubscriptionRejectedError,
  MAX_EXPIRES_IN_S,
} from './subscriptions/subscription-api.js';
export {
  createReconciler,
  type Reconciler,
  type ReconcileReport,
  type ReconcilerOptions,
} from './reconcile/reconciler.js';
export { createPlatform, type Platform, type PlatformCredentials } from './ringcentral/platform.js';
export {
  ASYNC_APIS,
  ENCODINGS,
  encodingForUrl,
  resolveAsyncApi,
  type AsyncApiName,
  type AsyncApiPath,
  type AsyncApiRef,
  type ResolvedAsyncApi,
} from './ringcentral/apis.js';
export type { AsyncApiTypes, InputOf, ResultOf, TypedHandlerInput } from './client/typed-api.js';
export type * from './ringcentral/schemas.js';
export { createEmulator, type Emulator } from './emulator/server.js';
export { DEFAULT_EMULATOR_OPTIONS, type EmulatorOptions } from './emulator/options.js';
export { ApiRejectedError, JobFailedError } from './errors.js';
