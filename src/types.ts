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
  /** Set for a body of a subscription request: a push notification, or ACE insights read back through REST. */
  notification?: NotificationSummary;
}

/** The key of one ACE insight record: newest `lastModifiedTime` wins per key. */
export interface InsightsKey {
  domain: string;
  sourceRecordId: string;
}

/**
 * What the indexer reads of a subscription request's body (the rest stays in the stored bytes): the
 * envelope's fields, and for ACE insights (an insights event's `body`, or a `RecordingInsights` read back
 * through ACE's REST endpoints) the record's key and version.
 */
export interface NotificationSummary {
  /** The envelope's `uuid` (re-deliveries are folded by it); null for insights read back through REST. */
  uuid: string | null;
  event: string | null;
  subscriptionId: string | null;
  timestamp: string | null;
  insights:
    (InsightsKey & { sourceSessionId: string | null; lastModifiedTime: string | null; title: string | null }) | null;
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
  /** Insight records that got a new version in this pass (for waiters in this process). */
  insights?: InsightsKey[];
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
/** The event key of a push notification (by its envelope `uuid`) in the handler queue. */
export const notificationEventKey = (uuid: string): string => `event:${uuid}`;
/** The event key of one version of an ACE insight record in the handler queue. */
export const insightsEventKey = (key: InsightsKey, lastModifiedMs: number): string =>
  `insights:${key.domain}:${key.sourceRecordId}:${lastModifiedMs}`;

/**
 * What a handler subscribes to, stored as its `api`: an AI API path (job results; null: every one),
 * `event:<filter>` / `event:*` (push notifications whose `event` matches, `~` matching any segment), or
 * `insights:<domain>` / `insights:*` (each new version of an ACE insight record).
 */
export const EVENT_TOPIC_PREFIX = 'event:';
export const INSIGHTS_TOPIC_PREFIX = 'insights:';

/** One push notification, stored once by its envelope `uuid`. */
export interface EventRecord {
  uuid: string;
  requestId: string;
  deliveryId: number;
  event: string;
  subscriptionId: string | null;
  /** The envelope's `timestamp`, as sent. */
  timestamp: string | null;
  /** The ACE record it carries, if any. */
  insights: InsightsKey | null;
  receivedAt: string;
}

/** One ACE insight record: the newest version received by webhook or read back through REST. */
export interface InsightsRecord extends InsightsKey {
  sourceSessionId: string | null;
  title: string | null;
  lastModifiedTime: string | null;
  /** The delivery holding the newest version (an envelope, or a `RecordingInsights` read back). */
  deliveryId: number;
  requestId: string;
  source: DeliverySource;
  /** Versions that replaced an older one, plus one. */
  versions: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * A webhook subscription jobhook keeps on the platform, by a local `name`. Its address is the minted URL of
 * `requestId` (kind `subscription`), whose verification token derives from that id; re-creating it on the
 * platform (blacklisted, expired, a new public URL) changes `platformId`, never the name or the request.
 * `status` is the platform's (`Active`, `Blacklisted`, … kept as sent) or jobhook's own: `Pending` (not
 * created yet), `Failed` (creation refused: see `lastError`), `Gone` (the platform no longer has it).
 */
export interface SubscriptionRecord {
  name: string;
  requestId: string;
  eventFilters: string[];
  /** The lifetime asked for, in seconds (sent explicitly, at the top level). */
  expiresIn: number;
  platformId: string | null;
  address: string | null;
  status: string;
  expiresAt: string | null;
  disabledFilters: unknown[];
  blacklistedData: unknown;
  lastError: string | null;
  checkedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** When its last notification arrived (from the stored events); null if none. */
  lastEventAt: string | null;
}

/** What `saveSubscription` writes (by name); the store keeps `createdAt` and derives `lastEventAt`. */
export type SubscriptionInput = Omit<SubscriptionRecord, 'createdAt' | 'updatedAt' | 'lastEventAt'>;

/** Which envelope settles a request and how each kind of delivery is parsed: pure rules from `ringcentral/` (see delivery-rules.ts). */
export interface DeliveryRules {
  /** The verdict on one body of a request of `kind`; the store keeps the raw bytes whatever it says. */
  parse(body: Buffer, kind: RequestKind): EnvelopeParseResult;
  /** The state an envelope settles its request in, or null when it does not (`InProgress`, unknown). */
  settlementOf(envelope: EnvelopeSummary): 'succeeded' | 'failed' | null;
  /** Whether a handler's topic (its stored `api`) takes a new event, or a new version of an insight record. */
  topicTakes(topic: string, notification: NotificationSummary, what: 'event' | 'insights'): boolean;
  /** The version order of an insight record (newest wins): its `lastModifiedTime` in ms, -1 when unreadable. */
  insightsVersionMs(lastModifiedTime: string | null): number;
}
