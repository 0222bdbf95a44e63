/**
 * Domain types shared by every folder. Imports nothing.
 *
 * A *request* is one minted callback URL: the write-ahead record made before a job is submitted (kind `job`)
 * or before a push-notification subscription is created (kind `subscription`, ACE insights).
 * A *delivery* is one distinct body received for a request; identical re-deliveries only raise its `count`.
 */

/** What a minted callback URL was made for. */
export type RequestKind = 'job' | 'subscription';

/** `minted`: behind a tagged callback URL (verified). `accepted`: from an `--accept` path (unverified). */
export type RequestOrigin = 'minted' | 'accepted';

/**
 * Request states:
 * - `pending`: minted, maybe submitted; no terminal envelope yet.
 * - `succeeded` / `failed`: the first terminal envelope (`Success` / `Fail`) decided it; later ones are kept, not applied.
 * - `expired`: the job can no longer be read back (set by reconciliation).
 */
export type RequestState = 'pending' | 'succeeded' | 'failed' | 'expired';

/**
 * Submission states of a job request: `minted` (URL handed out, not yet sent), `submitting` (being
 * POSTed), `accepted` (202 with a jobId), `rejected` (the API refused it; see `submitError`), `unknown`
 * (the process stopped mid-submission: a webhook may still settle it; jobhook never resubmits it).
 */
export type SubmitState = 'minted' | 'submitting' | 'accepted' | 'rejected' | 'unknown';

/** Where a delivery came from. */
export type DeliverySource = 'webhook' | 'status-poll';

/**
 * Parse states of a delivery: `pending` until the indexer has run (after the ack), then `parsed`
 * (an envelope was found) or `unparseable` (kept raw, with `parseError`).
 */
export type ParseState = 'pending' | 'parsed' | 'unparseable';

/** A status value of the AI API; anything else is kept as the raw string and treated as not terminal. */
export type JobStatus = 'Success' | 'Fail' | 'InProgress' | (string & {});

export interface RequestRecord {
  requestId: string;
  kind: RequestKind;
  /** API path, e.g. `/ai/audio/v1/async/speech-to-text`; known at submit or learned from the envelope. */
  api: string | null;
  /**
   * `null` only for a validly tagged request that reached a store which never recorded its minting; for an
   * accepted request, the path it was posted to.
   */
  callbackUrl: string | null;
  /** `accepted`: created from deliveries at an `--accept` path, which anyone who knows it can post to. */
  origin: RequestOrigin;
  /** Set when this job's results arrived on another request's callback URL (several jobs, one URL). */
  parentRequestId: string | null;
  /** The submitted JSON body, as text, when known. */
  requestBody: string | null;
  jobId: string | null;
  state: RequestState;
  /** The delivery whose envelope decided `state`. */
  outcomeDeliveryId: number | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Every receipt, duplicates included. */
  deliveryCount: number;
  submitState: SubmitState;
  submitError: string | null;
  /** Status-endpoint reads made for this request by reconciliation. */
  checkCount: number;
  nextCheckAt: string | null;
}

/** The fields of the result envelope that are indexed; the full body stays in `body`. */
export interface EnvelopeSummary {
  jobId: string | null;
  api: string | null;
  status: JobStatus;
  creationTime: string | null;
  completionTime: string | null;
  expirationTime: string | null;
}

export interface DeliveryRecord {
  deliveryId: number;
  requestId: string;
  source: DeliverySource;
  body: Buffer;
  bodySha256: string;
  /** Raw header pairs as received, `[name, value, name, value, …]`. */
  rawHeaders: string[];
  count: number;
  firstReceivedAt: string;
  lastReceivedAt: string;
  parseState: ParseState;
  parseError: string | null;
  envelope: EnvelopeSummary | null;
}

/**
 * A body too large to pass through the database's write path on the event loop, already written and
 * fsync'd by the store's body sink while it arrived (see `Store.openBodySink`). `file` is the store's
 * own reference to it.
 */
export interface SpooledBody {
  file: string;
  bytes: number;
}

/** A delivery as the receiver hands it to the store, before it is durable. */
export interface IncomingDelivery {
  requestId: string;
  source: DeliverySource;
  /** The bytes, or the reference of a body already spooled to durable storage. */
  body: Buffer | SpooledBody;
  /** SHA-256 of the body when the caller already computed it (the receiver hashes while reading). */
  bodySha256?: Buffer;
  /**
   * Set for a delivery taken at an `--accept` path (no tag, so unverified): the path it was posted to. Its
   * request is created from it when first indexed.
   */
  acceptedPath?: string;
  rawHeaders: string[];
  receivedAtMs: number;
}

/** What the store says about a delivery it committed (before indexing: duplicates are folded later). */
export interface RecordedDelivery {
  deliveryId: number;
  requestId: string;
}

/** A parser's verdict on one body; the store keeps the raw bytes whatever it says. */
export type EnvelopeParseResult = { ok: true; envelope: EnvelopeSummary } | { ok: false; error: string };

/** What one indexing pass did. */
export interface IndexPass {
  /** Deliveries examined (distinct ones indexed plus duplicates folded). */
  examined: number;
  /** Re-deliveries folded into an earlier identical body. */
  duplicates: number;
  /** Requests that left `pending` in this pass. */
  settled: RequestSettledEvent[];
  /**
   * The pass stopped early at a spooled body that needs parsing off the event loop (see
   * `Store.listUnparsedSpooled`): parse it and call again with the result.
   */
  blocked?: boolean;
}

/** Emitted once when a request leaves `pending`. */
export interface RequestSettledEvent {
  requestId: string;
  jobId: string | null;
  api: string | null;
  state: Exclude<RequestState, 'pending'>;
  deliveryId: number | null;
}

/**
 * A handler's run for one event: `pending` (due at `nextAttemptAt`), `running` (leased by `owner` until
 * `leaseUntil`), `succeeded`, or `dead` (every attempt failed; `jobhook retry` makes it pending again).
 * A request's settlement is the event `settled:<requestId>`; later kinds (subscription notifications) carry
 * many events per request.
 */
export interface HandlerRun {
  handler: string;
  eventKey: string;
  requestId: string;
  /** The delivery the event is about (the deciding one for a settlement). */
  deliveryId: number | null;
  state: 'pending' | 'running' | 'succeeded' | 'dead';
  attempts: number;
  nextAttemptAt: string;
  owner: string | null;
  leaseUntil: string | null;
  lastError: string | null;
  updatedAt: string;
}

/** The event key of a request's settlement in the handler queue. */
export const settledEventKey = (requestId: string): string => `settled:${requestId}`;

/** Which envelope settles a request and how each kind of delivery is parsed: pure rules from `ringcentral/` (see delivery-rules.ts). */
export interface DeliveryRules {
  /** The verdict on one body of a request of `kind`; the store keeps the raw bytes whatever it says. */
  parse(body: Buffer, kind: RequestKind): EnvelopeParseResult;
  /** The state an envelope settles its request in, or null when it does not (`InProgress`, unknown). */
  settlementOf(envelope: EnvelopeSummary): 'succeeded' | 'failed' | null;
}
