import { randomUUID } from 'node:crypto';
import type { EnvelopeParseResult, EnvelopeSummary, IndexPass, RequestSettledEvent } from '../../types.js';
import type { PendingRow, RequestCacheEntry, Statements } from './statements.js';

export interface IndexPassInput {
  stmt: Statements;
  rows: PendingRow[];
  nowMs: number;
  /** The verdict on a row's body; null when the pass must stop before it (a spooled body not parsed yet). */
  parse: (row: PendingRow) => EnvelopeParseResult | null;
  /** Takes the next settlement number (inside the transaction). */
  nextSettledSeq: () => number;
}

/**
 * One indexing pass over receipts, inside the caller's write transaction (so another process indexing the
 * same rows waits, then finds them done). For each receipt, oldest first:
 * 1. a byte-identical body already indexed for its request is folded into that delivery's count;
 * 2. otherwise the body is parsed; an envelope whose jobId differs from the jobId its request already has
 *    belongs to another job that used the same callback URL: the receipt moves to that job's request
 *    (found by jobId among requests of the same origin, or created pointing at the URL's request), where
 *    step 1 applies again — so `show <jobId>` finds every job, and each settles and runs handlers on its own;
 * 3. the delivery is indexed, its request learns jobId/api, and settles on its first Success or Fail.
 * Returns what it did and the spool files of folded duplicates (to delete after the commit).
 */
export function runIndexPass(input: IndexPassInput): IndexPass & { orphanedFiles: string[] } {
  const { stmt, rows, nowMs } = input;
  const settled: RequestSettledEvent[] = [];
  const orphanedFiles: string[] = [];
  let duplicates = 0;
  let examined = 0;
  let blocked = false;
  // Each request's state is read once per pass; the statements below only run when they change something.
  const requests = new Map<string, RequestCacheEntry>();
  const requestOf = (requestId: string, row: PendingRow): RequestCacheEntry => {
    let entry = requests.get(requestId) ?? stmt.requestState.get(requestId);
    if (!entry) {
      // A validly tagged URL this store never recorded, or the first delivery at an accepted path.
      const origin = row.accepted_path === null ? 'minted' : 'accepted';
      stmt.ensureRequest.run(requestId, origin, row.accepted_path, row.received_at, row.received_at);
      entry = { state: 'pending', jobId: null, api: null, kind: 'job', origin, callbackUrl: row.accepted_path };
    }
    requests.set(requestId, entry);
    return entry;
  };
  const fold = (row: PendingRow, intoDeliveryId: number): void => {
    stmt.foldDuplicate.run(row.received_at, intoDeliveryId);
    stmt.deleteDelivery.run(row.delivery_id);
    if (row.body_file) orphanedFiles.push(row.body_file);
    duplicates++;
    examined++;
  };
  /** The request of another job that used `parentId`'s callback URL; created on its first envelope. */
  const jobRequest = (parentId: string, parent: RequestCacheEntry, e: EnvelopeSummary): string => {
    const existing = stmt.requestOfJob.get(e.jobId!, parent.origin);
    if (existing !== undefined) return existing;
    const requestId = randomUUID();
    stmt.insertJobRequest.run({
      requestId,
      kind: parent.kind,
      origin: parent.origin,
      api: e.api ?? parent.api,
      callbackUrl: parent.callbackUrl,
      jobId: e.jobId,
      parentRequestId: parentId,
      now: nowMs,
    });
    requests.set(requestId, { ...parent, state: 'pending', jobId: e.jobId, api: e.api ?? parent.api });
    return requestId;
  };

  for (const row of rows) {
    const identical = stmt.findIdentical.get(row.request_id, row.source, row.body_sha256);
    if (identical) {
      fold(row, identical.delivery_id);
      continue;
    }
    const parsed = input.parse(row);
    if (parsed === null) {
      blocked = true;
      break;
    }
    const e = parsed.ok ? parsed.envelope : null;
    let requestId = row.request_id;
    let request = requestOf(requestId, row);
    if (e?.jobId && request.jobId !== null && request.jobId !== e.jobId) {
      requestId = jobRequest(row.request_id, request, e);
      request = requestOf(requestId, row);
      const identicalThere = stmt.findIdentical.get(requestId, row.source, row.body_sha256);
      if (identicalThere) {
        fold(row, identicalThere.delivery_id);
        continue;
      }
      stmt.moveDelivery.run(requestId, row.delivery_id);
    }
    examined++;
    stmt.insertIndex.run(
      row.delivery_id,
      requestId,
      row.source,
      row.body_sha256,
      row.received_at,
      row.received_at,
      parsed.ok ? 'parsed' : 'unparseable',
      parsed.ok ? null : parsed.error,
      e?.jobId ?? null,
      e?.api ?? null,
      e?.status ?? null,
      e?.creationTime ?? null,
      e?.completionTime ?? null,
      e?.expirationTime ?? null,
    );
    if (!e) continue;
    if ((request.jobId === null && e.jobId !== null) || (request.api === null && e.api !== null)) {
      stmt.learnFromEnvelope.run(e.jobId, e.api, nowMs, requestId);
      request.jobId ??= e.jobId;
      request.api ??= e.api;
    }
    if ((e.status !== 'Success' && e.status !== 'Fail') || request.state !== 'pending') continue;
    const state = e.status === 'Success' ? 'succeeded' : 'failed';
    stmt.settle.run(state, row.delivery_id, nowMs, nowMs, input.nextSettledSeq(), requestId);
    request.state = state;
    settled.push({ requestId, jobId: request.jobId, api: request.api, state, deliveryId: row.delivery_id });
  }
  return { examined, duplicates, settled, blocked, orphanedFiles };
}
