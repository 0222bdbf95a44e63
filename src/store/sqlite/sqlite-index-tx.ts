import type { EnvelopeParseResult, RequestKind } from '../../types.js';
import type { ClaimedReceipt, IndexTx } from '../index-plan.js';
import type { DeliveryRules } from '../store.js';
import type { PendingRow, Statements } from './statements.js';

/** The receipt of a pending row, as the shared indexing pass sees it. */
export const toReceipt = (row: PendingRow): ClaimedReceipt => ({
  deliveryId: row.delivery_id,
  requestId: row.request_id,
  source: row.source,
  bodySha256: row.body_sha256,
  receivedAtMs: row.received_at,
  acceptedPath: row.accepted_path,
  bodyFile: row.body_file,
});

export interface SqliteIndexTxInput {
  stmt: Statements;
  /** The steps of push events and insight records (sqlite-notifications.ts). */
  notes: Pick<IndexTx, 'findEvent' | 'insertEvent' | 'topicHandlers' | 'insertRun' | 'upsertInsights'>;
  nowMs: number;
  rules: DeliveryRules;
  preparsed: ReadonlyMap<number, EnvelopeParseResult> | undefined;
  /** Reads a spooled body synchronously (a caller without `preparsed`: CLI, reconciler). */
  parseSpooled: (file: string, kind: RequestKind) => EnvelopeParseResult;
  /** In the settling transaction: the handler runs the settlement owes. */
  onSettle: (event: Parameters<IndexTx['settle']>[0]) => void;
}

/**
 * The steps of the shared indexing pass (src/store/index-plan.ts) as synchronous SQLite statements, run
 * inside one write transaction: the write lock is the claim (one writer at a time), so another process
 * indexing meanwhile waits, then finds the receipts done.
 */
export function sqliteIndexTx(input: SqliteIndexTxInput): IndexTx {
  const { stmt, nowMs, rules, preparsed } = input;
  return {
    ...input.notes,
    requestState: (requestId) => stmt.requestState.get(requestId),
    ensureRequest: (requestId, origin, acceptedPath, atMs) =>
      void stmt.ensureRequest.run(requestId, origin, acceptedPath, atMs, atMs),
    findIdentical: (requestId, source, sha) => stmt.findIdentical.get(requestId, source, sha)?.delivery_id,
    foldDuplicate(receipt, intoDeliveryId) {
      stmt.foldDuplicate.run(receipt.receivedAtMs, intoDeliveryId);
      stmt.deleteDelivery.run(receipt.deliveryId);
    },
    requestOfJob: (jobId, origin) => stmt.requestOfJob.get(jobId, origin),
    insertJobRequest: (row) =>
      void stmt.insertJobRequest.run({
        requestId: row.requestId,
        kind: row.kind,
        origin: row.origin,
        api: row.api,
        callbackUrl: row.callbackUrl,
        jobId: row.jobId,
        parentRequestId: row.parentRequestId,
        now: row.atMs,
      }),
    moveDelivery: (deliveryId, toRequestId) => void stmt.moveDelivery.run(toRequestId, deliveryId),
    // A caller that parses spooled bodies off the event loop (the indexer) passes `preparsed`: stop at one it
    // has not parsed yet. Without it, the file is read and parsed here, one body in memory at a time.
    parse(receipt, kind) {
      const known = preparsed?.get(receipt.deliveryId);
      if (known) return known;
      if (receipt.bodyFile) return preparsed ? null : input.parseSpooled(receipt.bodyFile, kind);
      return rules.parse(stmt.bodyOf.get(receipt.deliveryId)!.body, kind);
    },
    insertIndex(receipt, requestId, parsed) {
      const e = parsed.ok ? parsed.envelope : null;
      stmt.insertIndex.run(
        receipt.deliveryId,
        requestId,
        receipt.source,
        receipt.bodySha256,
        receipt.receivedAtMs,
        receipt.receivedAtMs,
        parsed.ok ? 'parsed' : 'unparseable',
        parsed.ok ? null : parsed.error,
        e?.jobId ?? null,
        e?.api ?? null,
        e?.status ?? null,
        e?.creationTime ?? null,
        e?.completionTime ?? null,
        e?.expirationTime ?? null,
      );
      stmt.markIndexed.run(nowMs, receipt.deliveryId);
    },
    learnFromEnvelope: (requestId, jobId, api) => void stmt.learnFromEnvelope.run(jobId, api, nowMs, requestId),
    settle(event) {
      stmt.settle.run(event.state, event.deliveryId, nowMs, nowMs, event.requestId);
      input.onSettle(event);
    },
  };
}
