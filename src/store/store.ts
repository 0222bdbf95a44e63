import type {
  DeliveryRecord,
  DeliveryRules,
  EventRecord,
  InsightsKey,
  InsightsRecord,
  SubscriptionInput,
  SubscriptionRecord,
  IncomingDelivery,
  EnvelopeParseResult,
  HandlerRun,
  IndexPass,
  RecordedDelivery,
  RequestKind,
  RequestRecord,
  RequestSettledEvent,
  SpooledBody,
  SubmitState,
} from '../types.js';
import type { DisplayState } from './display-state.js';

export type { DeliveryRules } from '../types.js';

/** The outcome a handler reports for a run it owns. `retryInMs` counts on the database's clock; null: dead. */
export type RunOutcome = { ok: true } | { ok: false; error: string; retryInMs: number | null };

/** The receiver's side: durable receipts, large-body spooling, and the after-ack indexing. */
export interface IngestStore {
  /**
   * Whether the store can take writes at all: not when it is closed, its files were removed or replaced, or
   * (PostgreSQL) the database has stopped answering. `/healthz` says so; a passing lock is not reported.
   */
  health(): { ok: true } | { ok: false; problem: string };
  /**
   * Commits a batch of receipts in one durable transaction (fsync'd / `synchronous_commit`). This is the
   * whole hot path: nothing is parsed, deduplicated or indexed here. Rejects with JH_ERR_STORE_UNAVAILABLE
   * when nothing was committed (the caller answers 503).
   */
  recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]>;
  /**
   * Opens a sink for a body too large for the hot path (the receiver spools past `--spool-above`): chunks
   * are written as they arrive, off the event loop; `finish()` makes them durable and returns the
   * reference to pass as `IncomingDelivery.body`. Nothing refers to the bytes until that delivery commits.
   */
  openBodySink(): Promise<BodySink>;
  /** Removes a spooled body whose delivery was not recorded (its commit failed): nothing refers to it. */
  discardSpooled(body: SpooledBody): Promise<void>;
  /**
   * Spooled receipts not yet indexed that need a parse (no byte-identical indexed delivery), oldest first,
   * with a path the caller can read them from and the kind of their request (which parser applies): the
   * indexer parses them in a worker thread, off the event loop.
   */
  listUnparsedSpooled(limit: number): Promise<{ deliveryId: number; path: string; kind: RequestKind }[]>;
  /**
   * The after-ack step: claims up to `limit` receipts not yet indexed (found by their own state, never by a
   * watermark; on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so instances index side by side), folds
   * byte-identical re-deliveries into the first one's count, parses the others with `rules.parse` (or takes
   * the verdict from `preparsed`, by delivery id), indexes jobIds and settles requests by
   * `rules.settlementOf`. Settling creates, in the same transaction, one run per registered handler whose
   * api matches, and sends the settlement hint. A spooled body missing from `preparsed` is never parsed
   * here: the pass stops before it (`blocked`). Whatever a crash leaves unindexed is picked up later.
   */
  indexDeliveries(
    rules: DeliveryRules,
    limit?: number,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass>;
}

/** Installation settings and the callback keyring. */
export interface SettingsStore {
  /** Returns the callback secrets, newest first, creating the first one with `generate` on first use. */
  ensureSecrets(generate: () => string): Promise<string[]>;
  /** Returns a setting, storing `generate()` first when it is absent (e.g. the forwarding secret). */
  ensureSetting(key: string, generate: () => string): Promise<string>;
  /** Reads a setting; null when absent. */
  getSetting(key: string): Promise<string | null>;
  /** Writes a setting (e.g. the public URL a running server advertises to other processes). */
  putSetting(key: string, value: string): Promise<void>;
  /** Adds a new newest secret; older ones keep verifying. Returns the keyring, newest first. */
  addSecret(secret: string): Promise<string[]>;
}

/** The client's side: write-ahead requests and their submissions. */
export interface RequestStore {
  /** Write-ahead: records a minted request before its callback URL is handed to anyone. A taken id: JH_ERR_STORE_CONFLICT. */
  createRequest(input: NewRequest): Promise<RequestRecord>;
  /**
   * Records the progress of a job's submission; a jobId the request already learned is kept. `submitting`
   * claims the submission for this store's owner (see `ownerId`): while that owner is alive (its heartbeat
   * lease holds), no other process marks it interrupted. Unknown request: JH_ERR_NOT_FOUND.
   */
  updateSubmission(requestId: string, update: { state: SubmitState; jobId?: string; error?: string }): Promise<void>;
  /**
   * Marks `unknown` the submissions left `submitting` by owners that stopped (their heartbeat lease expired,
   * or they closed); never another live process's. Returns their request IDs.
   */
  markInterruptedSubmissions(): Promise<string[]>;
}

/** Reconciliation's side: status checks are claimed, so instances never check one job at once. */
export interface CheckQueue {
  /**
   * Claims up to `limit` pending requests with a jobId whose status check is due on the database's clock
   * (`next_check_at` passed, or never checked and older than `firstCheckAfterMs`), and not claimed by
   * another owner whose lease holds, for `leaseMs`. Oldest due first.
   */
  claimDueChecks(firstCheckAfterMs: number, leaseMs: number, limit: number): Promise<RequestRecord[]>;
  /** Pending requests with a jobId whose first or next status check is not due yet, and when the next one is. */
  countNotYetDue(firstCheckAfterMs: number): Promise<{ count: number; nextDueAtMs: number | null }>;
  /**
   * Records a status check that found no result yet and when to look again (`inMs` on the database's
   * clock), releasing this owner's claim. Returns false (nothing written) when another owner's claim on
   * it holds or it is no longer pending; unknown request: JH_ERR_NOT_FOUND.
   */
  scheduleCheck(requestId: string, inMs: number): Promise<boolean>;
  /** Settles a pending request as `expired` (the job can no longer be read back). False if not pending. */
  markExpired(requestId: string): Promise<boolean>;
}

/**
 * The durable handler queue. Runs are created when a request settles (one per handler registered then, whose
 * api matches), keyed by `(handler, eventKey)` so one request may carry many events; a claim leases a run to
 * this store's owner on the database's clock, and only the owner completes it.
 */
export interface HandlerQueue {
  /** Registers (or re-registers) a handler by name; it gets runs for settlements from now on. */
  registerHandler(name: string, api: string | null): Promise<void>;
  /**
   * Leases up to `limit` due runs of `handler` for `leaseMs`: pending ones whose time has come and running
   * ones whose lease expired (their owner stopped). Attempts are counted.
   */
  claimHandlerRuns(handler: string, leaseMs: number, limit: number): Promise<HandlerRun[]>;
  /**
   * Ends a run this owner leased: succeeded, retried in `retryInMs`, or dead. When the lease was lost (it
   * expired and another owner took the run, or it was never ours) nothing is written: JH_ERR_LEASE_LOST.
   */
  completeHandlerRun(run: { handler: string; eventKey: string }, outcome: RunOutcome): Promise<void>;
  listHandlerRuns(requestId: string): Promise<HandlerRun[]>;
  /**
   * Makes a request's runs pending again (attempts restart): only dead ones, or with `all` every run not
   * leased right now, which replays the result through every handler and the forward target. Returns how many.
   */
  retryHandlerRuns(requestId: string, options?: { all?: boolean }): Promise<number>;
}

/**
 * One rate budget per key (a RingCentral app and user's Heavy group), shared by every process on the
 * database, on the database's clock. It is a sliding-window log, not a refilling bucket: a bucket of
 * `capacity` that refills over `windowMs` lets nearly twice `capacity` through in one window, and the
 * platform counts a sliding window (a request over it starts a 60 s penalty).
 */
export interface RateBudget {
  /**
   * Takes one grant from `key`'s budget: at most `capacity` grants in any `windowMs` (plus a small margin for
   * the time a request takes to reach the platform), none while a hold is in force. With `reserve`, only
   * when more than `reserve` grants of the window would be left (low priority: what others leave).
   * Returns 0 when taken, else how long to wait before asking again.
   */
  takeRateToken(key: string, limits: RateLimits): Promise<number>;
  /**
   * Tells every process what the platform said: a hold for `holdMs` from now (`Retry-After`, or an
   * exhausted window; a hold only lengthens, never shortens), and/or how many requests it says remain in
   * its window (`X-Rate-Limit-Remaining`: the window is then treated as holding at least
   * `capacity - remaining` grants).
   */
  reportRate(key: string, report: { holdMs?: number; remaining?: number; limits: RateLimits }): Promise<void>;
}

/**
 * Webhook subscriptions jobhook keeps on the platform (see `SubscriptionRecord`), and named leases on the
 * database's clock so that one process at a time keeps them when several share a database.
 */
export interface SubscriptionStore {
  /** Inserts or replaces the subscription named `input.name`; returns it as stored. */
  saveSubscription(input: SubscriptionInput): Promise<SubscriptionRecord>;
  /** By local name or by current platform id. */
  findSubscription(nameOrPlatformId: string): Promise<SubscriptionRecord | undefined>;
  /** Every kept subscription, by name. */
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  /** Forgets a subscription (after deleting it on the platform); false when no such name. */
  removeSubscription(name: string): Promise<boolean>;
  /**
   * Takes or extends the lease `name` for this store's owner until `leaseMs` from now (database clock):
   * true when this owner holds it (it was free, expired, or already ours), false when another owner's holds.
   */
  holdLease(name: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease up if this owner holds it. */
  releaseLease(name: string): Promise<void>;
}

/** Which push notifications `listEvents` reads (all given conditions hold); newest first, `limit` 100. */
export interface EventQuery {
  /** Of one subscription request. */
  requestId?: string;
  /** The one with this envelope `uuid`. */
  uuid?: string;
  /** Those carrying this ACE record (every version of it that came by webhook). */
  record?: InsightsKey;
  limit?: number;
}

/** Read-only views for the inspector, the CLI and awaiting code. */
export interface StoreReader {
  /** Looks a request up by request ID or by jobId. */
  findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined>;
  listRequests(query?: RequestQuery): Promise<RequestRecord[]>;
  listDeliveries(requestId: string): Promise<DeliveryRecord[]>;
  getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined>;
  /**
   * Subscribes to settlement hints, including those committed by other processes sharing the database.
   * Hints can be lost (a dropped connection); `onResync` is then called once the store listens again, and
   * the listener must re-read the state of whatever it waits for. Returns the unsubscribe function.
   */
  onSettled(listener: (event: RequestSettledEvent) => void, onResync?: () => void): () => void;
  /** Push notifications, newest first (one per envelope `uuid`): see `EventQuery`. */
  listEvents(query?: EventQuery): Promise<EventRecord[]>;
  /** The newest version of an ACE insight record. */
  findInsights(key: InsightsKey): Promise<InsightsRecord | undefined>;
  /** Insight records, most recently updated first. */
  listInsights(query?: { domain?: string; limit?: number }): Promise<InsightsRecord[]>;
  /**
   * Hints that an insight record got a new version (any process sharing the database); as `onSettled`,
   * hints can be lost and `onResync` then asks the listener to re-read. Returns the unsubscribe function.
   */
  onInsights(listener: (key: InsightsKey) => void, onResync?: () => void): () => void;
}

/**
 * The one interface the receiver, the client and the CLI meet at, split by role; each caller takes the
 * part it needs. Every method is async: SQLite (embedded) and PostgreSQL (shared by a fleet) fit behind it.
 *
 * Claims: every piece of work (receipts to index, handler runs, status checks, submissions in flight) is
 * claimed by `ownerId` with a lease on the database's clock; completing it requires the owner, and an
 * owner that dies leaves its claims to expire and be taken over.
 */
export interface Store
  extends
    IngestStore,
    SettingsStore,
    RequestStore,
    CheckQueue,
    HandlerQueue,
    RateBudget,
    SubscriptionStore,
    StoreReader {
  /** This store's owner identity in claims: `host/pid/random`, one per open store. */
  readonly ownerId: string;
  /**
   * Deletes requests whose submission never led anywhere — display state `rejected` or `unknown`, created
   * before `createdBeforeMs`, with no delivery and no handler run — and returns how many.
   */
  pruneRequests(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface RateLimits {
  /** Requests allowed per window (RingCentral Heavy: 10). */
  capacity: number;
  /** The window (RingCentral: 60 000 ms). */
  windowMs: number;
  /** Low priority: take a grant only when more than this many would remain in the window. @defaultValue 0 */
  reserve?: number;
}

/** See `Store.openBodySink`. States: open → finished (durable) | discarded. */
export interface BodySink {
  /** Queues a chunk; resolves when it is written (not yet durable). Callers pause their source meanwhile. */
  write(chunk: Buffer): Promise<void>;
  /** Flushes and fsyncs; rejects with JH_ERR_STORE_UNAVAILABLE when the bytes could not be made durable. */
  finish(): Promise<SpooledBody>;
  /** Drops a body that will not be recorded (aborted, too large). */
  discard(): Promise<void>;
}

export interface NewRequest {
  requestId: string;
  kind: RequestKind;
  callbackUrl: string;
  api?: string | null;
  requestBody?: string | null;
  createdAtMs?: number;
}

export interface RequestQuery {
  /** A display state (see `displayStateOf`): `rejected` and `unknown` are pending requests by submission. */
  state?: DisplayState;
  api?: string;
  /** The requests of further jobs whose results arrived on this request's callback URL. */
  parentRequestId?: string;
  /** Newest first; default 100. */
  limit?: number;
}
