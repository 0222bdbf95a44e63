import type {
  DeliveryRecord,
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

/**
 * The one interface the receiver, the client and the CLI meet at. Every method is async so that a
 * PostgreSQL implementation shared by several receiver processes fits behind it unchanged.
 *
 * Durability contract: when `recordDeliveries` resolves, every delivery in the batch is committed and
 * fsync'd; when it rejects, none is, and the caller must not acknowledge any of them.
 */
export interface Store {
  /** Returns the callback secrets, newest first, creating the first one with `generate` on first use. */
  ensureSecrets(generate: () => string): Promise<string[]>;
  /** Returns a setting, storing `generate()` first when it is absent (e.g. the forwarding secret). */
  ensureSetting(key: string, generate: () => string): Promise<string>;
  /**
   * Whether the store can take writes at all: not when it is closed or its files were removed or replaced
   * (a passing lock or a full disk is not reported here: those recover by themselves). `/healthz` says so.
   */
  health(): { ok: true } | { ok: false; problem: string };
  /** Reads a setting; null when absent. */
  getSetting(key: string): Promise<string | null>;
  /** Writes a setting (e.g. the public URL a running server advertises to other processes). */
  putSetting(key: string, value: string): Promise<void>;
  /** Adds a new newest secret; older ones keep verifying. Returns the keyring, newest first. */
  addSecret(secret: string): Promise<string[]>;

  /** Write-ahead: records a minted request before its callback URL is handed to anyone. */
  createRequest(input: NewRequest): Promise<RequestRecord>;

  /**
   * Commits a batch of receipts in one fsync'd transaction. This is the whole hot path: nothing is
   * parsed, deduplicated or indexed here.
   */
  recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]>;
  /**
   * Opens a sink for a body too large for the hot path (the receiver spools past `--spool-above`): chunks
   * are written as they arrive, off the event loop; `finish()` makes them durable and returns the
   * reference to pass as `IncomingDelivery.body`. Nothing refers to the bytes until that delivery commits.
   */
  openBodySink(): Promise<BodySink>;
  /**
   * Spooled receipts not yet indexed that need a parse (no byte-identical indexed delivery), oldest first,
   * with a path the caller can read them from: the indexer parses them in a worker thread, off the event loop.
   */
  /** Removes a spooled body whose delivery was not recorded (its commit failed): nothing refers to it. */
  discardSpooled(body: SpooledBody): Promise<void>;
  listUnparsedSpooled(limit: number): Promise<{ deliveryId: number; path: string }[]>;
  /**
   * The after-ack step: takes up to `limit` receipts not yet indexed, oldest first, folds byte-identical
   * re-deliveries into the first one's count, parses the others with `parse` (or takes the verdict from
   * `preparsed`, by delivery id), indexes jobIds and settles requests on their first terminal envelope.
   * A spooled body missing from `preparsed` is never parsed here: the pass stops before it (`blocked`).
   * Emits `settled` after the commit. Idempotent and safe to run from several processes; whatever a crash
   * leaves unindexed is picked up by the next call.
   */
  indexDeliveries(
    parse: (body: Buffer) => EnvelopeParseResult,
    limit?: number,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass>;

  /** Records the progress of a job's submission; a jobId the request already learned is kept. */
  updateSubmission(requestId: string, update: { state: SubmitState; jobId?: string; error?: string }): Promise<void>;
  /** Marks submissions that a stopped process left `submitting` as `unknown`; returns their request IDs. */
  markInterruptedSubmissions(): Promise<string[]>;
  /**
   * Pending requests with a jobId whose status check is due: `next_check_at` passed, or never checked and
   * older than `firstCheckAfterMs`. Oldest due first.
   */
  listDueForCheck(nowMs: number, firstCheckAfterMs: number, limit: number): Promise<RequestRecord[]>;
  /** Pending requests with a jobId whose first or next status check is not due yet, and when the next one is. */
  countNotYetDue(nowMs: number, firstCheckAfterMs: number): Promise<{ count: number; nextDueAtMs: number | null }>;
  /** Records a status check that found no result yet, and when to look again. */
  scheduleCheck(requestId: string, nextCheckAtMs: number): Promise<void>;
  /** Settles a pending request as `expired` (the job can no longer be read back). False if not pending. */
  markExpired(requestId: string): Promise<boolean>;
  getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined>;

  /** Registers a result handler by name; on first registration it starts from the current settlements. */
  registerHandler(name: string): Promise<void>;
  /**
   * Creates the runs a handler is owed (requests settled `succeeded`/`failed` after its registration,
   * whose api matches `api` unless null), then leases up to `limit` due runs for `leaseMs`: pending ones
   * whose time has come and running ones whose lease expired (their process stopped). Attempts are counted.
   */
  claimHandlerRuns(
    handler: string,
    api: string | null,
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<HandlerRun[]>;
  /** Ends a leased run: succeeded, retried at `retryAtMs`, or dead when `retryAtMs` is null. */
  completeHandlerRun(
    handler: string,
    requestId: string,
    outcome: { ok: true } | { ok: false; error: string; retryAtMs: number | null },
  ): Promise<void>;
  listHandlerRuns(requestId: string): Promise<HandlerRun[]>;
  /**
   * Makes a request's runs pending again (attempts restart): only dead ones, or with `all` every run,
   * which replays the result through every handler and the forward target. Returns how many.
   */
  retryHandlerRuns(requestId: string, options?: { all?: boolean }): Promise<number>;

  /**
   * Deletes requests whose submission never led anywhere — display state `rejected` or `unknown`, created
   * before `createdBeforeMs`, with no delivery and no handler run — and returns how many.
   */
  pruneRequests(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number>;
  /** Looks a request up by request ID or by jobId. */
  findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined>;
  listRequests(query?: RequestQuery): Promise<RequestRecord[]>;
  listDeliveries(requestId: string): Promise<DeliveryRecord[]>;

  /**
   * Subscribes to terminal transitions, including those committed by other processes sharing the
   * database (noticed within `watchIntervalMs` of the store); returns the unsubscribe function.
   */
  onSettled(listener: (event: RequestSettledEvent) => void): () => void;

  close(): Promise<void>;
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
