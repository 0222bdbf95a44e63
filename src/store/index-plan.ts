import { randomUUID } from 'node:crypto';
import type {
  DeliveryRules,
  EnvelopeParseResult,
  EnvelopeSummary,
  IndexPass,
  InsightsKey,
  NotificationSummary,
  RequestKind,
  RequestOrigin,
  RequestSettledEvent,
  RequestState,
} from '../types.js';
import { insightsEventKey, notificationEventKey } from '../types.js';

/**
 * The indexing pass, written once for every backend. It is a generator that yields each database step it
 * needs (a value or a promise) and is resumed with the step's result: SQLite drives it synchronously inside
 * one write transaction (`runIndexPlanSync`), PostgreSQL asynchronously inside one transaction
 * (`runIndexPlanAsync`). The domain decisions (which envelope settles a request, how a body is parsed) come
 * from `DeliveryRules`; the steps only read and write rows.
 */
export type Maybe<T> = T | Promise<T>;

/** A receipt claimed for indexing (not indexed yet: `indexed_at IS NULL`). */
export interface ClaimedReceipt {
  deliveryId: number;
  requestId: string;
  source: string;
  bodySha256: Buffer;
  receivedAtMs: number;
  acceptedPath: string | null;
  bodyFile: string | null;
}

/** What a pass needs to know of a request; read once per pass (PostgreSQL: and locked). */
export interface RequestEntry {
  state: RequestState;
  jobId: string | null;
  api: string | null;
  kind: RequestKind;
  origin: RequestOrigin;
  callbackUrl: string | null;
}

/** The database steps of one pass, inside the backend's transaction. */
export interface IndexTx {
  /** The request's state (PostgreSQL: `FOR UPDATE`, so passes on one request take turns); undefined if none. */
  requestState(requestId: string): Maybe<RequestEntry | undefined>;
  /** Creates the request of a validly tagged URL the store never recorded, or of an accepted path. */
  ensureRequest(requestId: string, origin: RequestOrigin, acceptedPath: string | null, atMs: number): Maybe<void>;
  /** The indexed delivery of `requestId` with these exact bytes, if any. */
  findIdentical(requestId: string, source: string, bodySha256: Buffer): Maybe<number | undefined>;
  /** Folds a re-delivery into `intoDeliveryId`'s count and deletes its receipt row. */
  foldDuplicate(receipt: ClaimedReceipt, intoDeliveryId: number): Maybe<void>;
  /** The request of `jobId` among requests of one origin (accepted deliveries never reach a minted one). */
  requestOfJob(jobId: string, origin: RequestOrigin): Maybe<string | undefined>;
  insertJobRequest(row: {
    requestId: string;
    kind: RequestKind;
    origin: RequestOrigin;
    api: string | null;
    callbackUrl: string | null;
    jobId: string;
    parentRequestId: string;
    atMs: number;
  }): Maybe<void>;
  moveDelivery(deliveryId: number, toRequestId: string): Maybe<void>;
  /** The verdict on a receipt's body; null when the pass must stop before it (spooled, not parsed yet). */
  parse(receipt: ClaimedReceipt, kind: RequestKind): Maybe<EnvelopeParseResult | null>;
  /** Indexes a distinct delivery under `requestId` and marks its receipt indexed. */
  insertIndex(receipt: ClaimedReceipt, requestId: string, parsed: EnvelopeParseResult): Maybe<void>;
  learnFromEnvelope(requestId: string, jobId: string | null, api: string | null): Maybe<void>;
  /**
   * Settles a pending request: state, deciding delivery, one run per registered handler whose api matches
   * (event `settled:<requestId>`), and the settlement hint to other processes — all in this transaction.
   */
  settle(event: RequestSettledEvent): Maybe<void>;
  /** The delivery of the push notification with this envelope `uuid`, if one is stored. */
  findEvent(uuid: string): Maybe<number | undefined>;
  insertEvent(row: {
    uuid: string;
    requestId: string;
    deliveryId: number;
    event: string;
    subscriptionId: string | null;
    timestamp: string | null;
    /** The ACE record the notification carries, if any. */
    record: InsightsKey | null;
    receivedAtMs: number;
  }): Maybe<void>;
  /** Handlers whose topic (stored `api`) is an event or insights topic: read once per pass. */
  topicHandlers(): Maybe<{ name: string; topic: string }[]>;
  /** Creates one pending run (nothing when it exists). */
  insertRun(handler: string, eventKey: string, requestId: string, deliveryId: number): Maybe<void>;
  /**
   * Stores a version of an insight record when it is the first, or newer (`versionMs` strictly greater)
   * than the stored one; returns whether it did. On PostgreSQL it also sends the hint to other processes.
   */
  upsertInsights(row: {
    key: InsightsKey;
    sourceSessionId: string | null;
    title: string | null;
    lastModifiedTime: string | null;
    versionMs: number;
    deliveryId: number;
    requestId: string;
    source: string;
  }): Maybe<boolean>;
}

/** What a pass did, and the spool files of folded duplicates (to delete after a durable commit). */
export type IndexPlanResult = Required<IndexPass> & { orphanedFiles: string[] };

function* step<T>(value: Maybe<T>): Generator<unknown, T, unknown> {
  return (yield value) as T;
}

/**
 * For each receipt, oldest first:
 * 1. a byte-identical body already indexed for its request is folded into that delivery's count;
 * 2. otherwise the body is parsed; an envelope whose jobId differs from the jobId its request already has
 *    belongs to another job that used the same callback URL: the receipt moves to that job's request
 *    (found by jobId among requests of the same origin, or created pointing at the URL's request), where
 *    step 1 applies again — so `show <jobId>` finds every job, and each settles and runs handlers on its own;
 * 3. the delivery is indexed, its request learns jobId/api, and settles on its first envelope that
 *    `rules.settlementOf` says settles it.
 */
export function* indexPlan(
  tx: IndexTx,
  receipts: readonly ClaimedReceipt[],
  rules: DeliveryRules,
  nowMs: number,
): Generator<unknown, IndexPlanResult, unknown> {
  const settled: RequestSettledEvent[] = [];
  const orphanedFiles: string[] = [];
  let duplicates = 0;
  let examined = 0;
  let blocked = false;
  const requests = new Map<string, RequestEntry>();
  const insights: InsightsKey[] = [];
  let topics: { name: string; topic: string }[] | null = null;

  function* requestOf(requestId: string, receipt: ClaimedReceipt): Generator<unknown, RequestEntry, unknown> {
    const cached = requests.get(requestId);
    if (cached) return cached;
    let entry = yield* step(tx.requestState(requestId));
    if (!entry) {
      // A validly tagged URL this store never recorded, or the first delivery at an accepted path.
      const origin = receipt.acceptedPath === null ? 'minted' : 'accepted';
      yield* step(tx.ensureRequest(requestId, origin, receipt.acceptedPath, receipt.receivedAtMs));
      // Re-read: on PostgreSQL another instance may have created it first (and this locks it).
      entry = (yield* step(tx.requestState(requestId))) ?? {
        state: 'pending',
        jobId: null,
        api: null,
        kind: 'job',
        origin,
        callbackUrl: receipt.acceptedPath,
      };
    }
    requests.set(requestId, entry);
    return entry;
  }

  function* fold(receipt: ClaimedReceipt, requestId: string): Generator<unknown, boolean, unknown> {
    const identical = yield* step(tx.findIdentical(requestId, receipt.source, receipt.bodySha256));
    if (identical === undefined) return false;
    yield* step(tx.foldDuplicate(receipt, identical));
    if (receipt.bodyFile) orphanedFiles.push(receipt.bodyFile);
    duplicates++;
    examined++;
    return true;
  }

  /** The request of another job that used `parentId`'s callback URL; created on its first envelope. */
  function* jobRequest(
    parentId: string,
    parent: RequestEntry,
    e: EnvelopeSummary,
  ): Generator<unknown, string, unknown> {
    const existing = yield* step(tx.requestOfJob(e.jobId!, parent.origin));
    if (existing !== undefined) return existing;
    const requestId = randomUUID();
    const api = e.api ?? parent.api;
    yield* step(
      tx.insertJobRequest({
        requestId,
        kind: parent.kind,
        origin: parent.origin,
        api,
        callbackUrl: parent.callbackUrl,
        jobId: e.jobId!,
        parentRequestId: parentId,
        atMs: nowMs,
      }),
    );
    requests.set(requestId, { ...parent, state: 'pending', jobId: e.jobId, api });
    return requestId;
  }

  /**
   * A push notification or ACE insights read back: the event is stored once by its `uuid` with a run per
   * handler whose topic takes it; an insight record takes the version when it is newer, with a run per
   * insights handler (each version is an event of its own, so a handler sees the update).
   */
  function* notification(
    receipt: ClaimedReceipt,
    requestId: string,
    n: NotificationSummary,
  ): Generator<unknown, void, unknown> {
    topics ??= yield* step(tx.topicHandlers());
    const { deliveryId } = receipt;
    if (n.uuid !== null) {
      yield* step(
        tx.insertEvent({
          uuid: n.uuid,
          requestId,
          deliveryId,
          event: n.event ?? '',
          subscriptionId: n.subscriptionId,
          timestamp: n.timestamp,
          record: n.insights && { domain: n.insights.domain, sourceRecordId: n.insights.sourceRecordId },
          receivedAtMs: receipt.receivedAtMs,
        }),
      );
      for (const h of topics) {
        if (rules.topicTakes(h.topic, n, 'event')) {
          yield* step(tx.insertRun(h.name, notificationEventKey(n.uuid), requestId, deliveryId));
        }
      }
    }
    if (n.insights === null) return;
    const key = { domain: n.insights.domain, sourceRecordId: n.insights.sourceRecordId };
    const versionMs = rules.insightsVersionMs(n.insights.lastModifiedTime);
    const newer = yield* step(
      tx.upsertInsights({
        key,
        sourceSessionId: n.insights.sourceSessionId,
        title: n.insights.title,
        lastModifiedTime: n.insights.lastModifiedTime,
        versionMs,
        deliveryId,
        requestId,
        source: receipt.source,
      }),
    );
    if (!newer) return;
    insights.push(key);
    for (const h of topics) {
      if (rules.topicTakes(h.topic, n, 'insights')) {
        yield* step(tx.insertRun(h.name, insightsEventKey(key, versionMs), requestId, deliveryId));
      }
    }
  }

  for (const receipt of receipts) {
    // The request first: on PostgreSQL its row lock orders every pass that touches it.
    let request = yield* requestOf(receipt.requestId, receipt);
    if (yield* fold(receipt, receipt.requestId)) continue;
    const parsed = yield* step(tx.parse(receipt, request.kind));
    if (parsed === null) {
      blocked = true;
      break;
    }
    const e = parsed.ok ? parsed.envelope : null;
    const n = request.kind === 'subscription' ? (e?.notification ?? null) : null;
    if (n?.uuid) {
      // A re-delivery whose bytes differ (the platform's envelope is the same event): folded by its uuid.
      const earlier = yield* step(tx.findEvent(n.uuid));
      if (earlier !== undefined) {
        yield* step(tx.foldDuplicate(receipt, earlier));
        if (receipt.bodyFile) orphanedFiles.push(receipt.bodyFile);
        duplicates++;
        examined++;
        continue;
      }
    }
    if (n) {
      examined++;
      yield* step(tx.insertIndex(receipt, receipt.requestId, parsed));
      yield* notification(receipt, receipt.requestId, n);
      continue;
    }
    let requestId = receipt.requestId;
    if (e?.jobId && request.jobId !== null && request.jobId !== e.jobId) {
      requestId = yield* jobRequest(receipt.requestId, request, e);
      request = yield* requestOf(requestId, receipt);
      if (yield* fold(receipt, requestId)) continue;
      yield* step(tx.moveDelivery(receipt.deliveryId, requestId));
    }
    examined++;
    yield* step(tx.insertIndex(receipt, requestId, parsed));
    if (!e) continue;
    if ((request.jobId === null && e.jobId !== null) || (request.api === null && e.api !== null)) {
      yield* step(tx.learnFromEnvelope(requestId, e.jobId, e.api));
      request.jobId ??= e.jobId;
      request.api ??= e.api;
    }
    const state = rules.settlementOf(e);
    if (state === null || request.state !== 'pending') continue;
    const event: RequestSettledEvent = {
      requestId,
      jobId: request.jobId,
      api: request.api,
      state,
      deliveryId: receipt.deliveryId,
    };
    yield* step(tx.settle(event));
    request.state = state;
    settled.push(event);
  }
  return { examined, duplicates, settled, blocked, insights, orphanedFiles };
}

/** Drives the plan with synchronous steps (SQLite, inside `db.transaction`). A promise here is a bug. */
export function runIndexPlanSync(plan: Generator<unknown, IndexPlanResult, unknown>): IndexPlanResult {
  let next = plan.next();
  while (!next.done) {
    if (next.value instanceof Promise) throw new TypeError('a synchronous index step returned a promise');
    next = plan.next(next.value);
  }
  return next.value;
}

/** Drives the plan with asynchronous steps (PostgreSQL, inside one transaction on one client). */
export async function runIndexPlanAsync(plan: Generator<unknown, IndexPlanResult, unknown>): Promise<IndexPlanResult> {
  let next = plan.next();
  while (!next.done) next = plan.next(await next.value);
  return next.value;
}
