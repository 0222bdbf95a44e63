import type Database from 'better-sqlite3';
import type { RequestKind, RequestState } from '../../types.js';
import type { RequestEntry } from '../index-plan.js';
import type { DeliveryRow, RequestRow } from './rows.js';

/** Every prepared statement of the SQLite store, and the SQL they share. */
export const SECRETS_KEY = 'callback_secrets';
export const DEFAULT_INDEX_LIMIT = 1000;
/**
 * The next settlement number. `WHERE settled_seq IS NOT NULL` lets SQLite answer from the partial index
 * requests_settled_seq: without it MAX() scanned every request on each settlement (1.1 ms at 19 000
 * requests, 2.5× fewer deliveries/s under load). test/store/sqlite-store.test.ts checks the plan.
 */
export const NEXT_SETTLED_SEQ = 'SELECT COALESCE(MAX(settled_seq), 0) + 1 FROM requests WHERE settled_seq IS NOT NULL';

/** Receipts not yet indexed (`indexed_at IS NULL`): visible at once as `pending`, each with count 1. */
const PENDING_DELIVERIES = `SELECT d.delivery_id, d.request_id, d.source, d.body, d.body_file, d.body_sha256, d.raw_headers,
    1 AS count, d.received_at AS first_received_at, d.received_at AS last_received_at,
    'pending' AS parse_state, NULL AS parse_error, NULL AS job_id, NULL AS api, NULL AS status,
    NULL AS creation_time, NULL AS completion_time, NULL AS expiration_time
  FROM deliveries d WHERE d.indexed_at IS NULL`;
const INDEXED_DELIVERIES = `SELECT d.delivery_id, d.request_id, d.source, d.body, d.body_file, d.body_sha256, d.raw_headers,
    i.count, i.first_received_at, i.last_received_at, i.parse_state, i.parse_error, i.job_id, i.api, i.status,
    i.creation_time, i.completion_time, i.expiration_time
  FROM delivery_index i JOIN deliveries d USING (delivery_id)`;
export const REQUEST_COLUMNS = `r.*,
  (SELECT COALESCE(SUM(i.count), 0) FROM delivery_index i WHERE i.request_id = r.request_id)
  + (SELECT COUNT(*) FROM deliveries d WHERE d.indexed_at IS NULL AND d.request_id = r.request_id)
  AS delivery_count`;

export interface PendingRow {
  delivery_id: number;
  accepted_path: string | null;
  body_file: string | null;
  request_id: string;
  source: string;
  body_sha256: Buffer;
  received_at: number;
}

/** @internal */
export type Statements = ReturnType<typeof prepareStatements>;

/** @internal Store plumbing; its statement types stay out of the published declarations. */
export function prepareStatements(db: Database.Database) {
  return {
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    putSetting: db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    insertRequest: db.prepare(
      `INSERT INTO requests (request_id, kind, api, callback_url, request_body, created_at, updated_at)
       VALUES (@requestId, @kind, @api, @callbackUrl, @requestBody, @createdAt, @createdAt)`,
    ),
    insertDelivery: db.prepare(
      `INSERT INTO deliveries (request_id, source, body, body_file, body_sha256, raw_headers, received_at, accepted_path)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    pendingPage: db.prepare<[number], PendingRow>(
      `SELECT delivery_id, request_id, source, body_file, body_sha256, received_at, accepted_path FROM deliveries
       WHERE indexed_at IS NULL ORDER BY delivery_id LIMIT ?`,
    ),
    /** Spooled receipts not yet indexed whose bytes no indexed delivery of the request already has. */
    unparsedSpooled: db.prepare<[number], { delivery_id: number; body_file: string; kind: RequestKind | null }>(
      `SELECT d.delivery_id, d.body_file, (SELECT r.kind FROM requests r WHERE r.request_id = d.request_id) AS kind
       FROM deliveries d
       WHERE d.indexed_at IS NULL AND d.body_file IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM delivery_index i
         WHERE i.request_id = d.request_id AND i.source = d.source AND i.body_sha256 = d.body_sha256)
       ORDER BY d.delivery_id LIMIT ?`,
    ),
    spoolFiles: db.prepare<[], string>('SELECT body_file FROM deliveries WHERE body_file IS NOT NULL').pluck(),
    bodyOf: db.prepare<[number], { body: Buffer }>('SELECT body FROM deliveries WHERE delivery_id = ?'),
    findIdentical: db.prepare<[string, string, Buffer], { delivery_id: number }>(
      'SELECT delivery_id FROM delivery_index WHERE request_id = ? AND source = ? AND body_sha256 = ?',
    ),
    foldDuplicate: db.prepare(
      `UPDATE delivery_index SET count = count + 1, last_received_at = MAX(last_received_at, ?)
       WHERE delivery_id = ?`,
    ),
    deleteDelivery: db.prepare('DELETE FROM deliveries WHERE delivery_id = ?'),
    markIndexed: db.prepare('UPDATE deliveries SET indexed_at = ? WHERE delivery_id = ?'),
    insertIndex: db.prepare(
      `INSERT INTO delivery_index (delivery_id, request_id, source, body_sha256, first_received_at,
         last_received_at, parse_state, parse_error, job_id, api, status, creation_time, completion_time,
         expiration_time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    requestState: db.prepare<[string], RequestEntry>(
      `SELECT state, job_id AS jobId, api, kind, origin, callback_url AS callbackUrl
       FROM requests WHERE request_id = ?`,
    ),
    ensureRequest: db.prepare<[string, string, string | null, number, number]>(
      `INSERT INTO requests (request_id, kind, origin, callback_url, created_at, updated_at)
       VALUES (?, 'job', ?, ?, ?, ?)`,
    ),
    /** The request of a jobId among requests of one origin: accepted deliveries never reach a minted request. */
    requestOfJob: db
      .prepare<[string, string], string>(
        `SELECT request_id FROM requests WHERE job_id = ? AND origin = ? ORDER BY created_at DESC LIMIT 1`,
      )
      .pluck(),
    insertJobRequest: db.prepare(
      `INSERT INTO requests (request_id, kind, origin, api, callback_url, job_id, parent_request_id, created_at, updated_at)
       VALUES (@requestId, @kind, @origin, @api, @callbackUrl, @jobId, @parentRequestId, @now, @now)`,
    ),
    moveDelivery: db.prepare('UPDATE deliveries SET request_id = ? WHERE delivery_id = ?'),
    /** Only requests that nothing refers to: no receipt (indexed or not), no handler run, no other job's parent. */
    prune: db.prepare<[string, number]>(
      `DELETE FROM requests WHERE state = 'pending' AND submit_state = ? AND created_at < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.request_id = requests.request_id)
         AND NOT EXISTS (SELECT 1 FROM handler_runs h WHERE h.request_id = requests.request_id)
         AND NOT EXISTS (SELECT 1 FROM requests c WHERE c.parent_request_id = requests.request_id)`,
    ),
    learnFromEnvelope: db.prepare(
      'UPDATE requests SET job_id = COALESCE(job_id, ?), api = COALESCE(api, ?), updated_at = ? WHERE request_id = ?',
    ),
    // `settled_seq` orders settlements for the processes that share the file (see SqliteStore.#emitSettled):
    // taken under the write lock, so it grows in commit order.
    settle: db.prepare(
      `UPDATE requests SET state = ?, outcome_delivery_id = ?, completed_at = ?, updated_at = ?,
         settled_seq = (${NEXT_SETTLED_SEQ})
       WHERE request_id = ? AND state = 'pending'`,
    ),
    settledSince: db.prepare<
      [number],
      {
        request_id: string;
        job_id: string | null;
        api: string | null;
        state: RequestState;
        outcome_delivery_id: number | null;
        settled_seq: number;
      }
    >(
      `SELECT request_id, job_id, api, state, outcome_delivery_id, settled_seq FROM requests
       WHERE settled_seq > ? ORDER BY settled_seq`,
    ),
    // See NEXT_SETTLED_SEQ: the same condition keeps this on the index.
    maxSettledSeq: db
      .prepare<[], number>('SELECT COALESCE(MAX(settled_seq), 0) FROM requests WHERE settled_seq IS NOT NULL')
      .pluck(),
    updateSubmission: db.prepare(
      `UPDATE requests SET submit_state = @state, job_id = COALESCE(job_id, @jobId), submit_error = @error,
         submit_owner = CASE WHEN @state = 'submitting' THEN @owner END, updated_at = @now
       WHERE request_id = @requestId`,
    ),
    /** Submissions whose owner stopped: no instance row with a fresh heartbeat, or a dead process here. */
    interrupted: db.prepare<Record<string, unknown>, { request_id: string }>(
      `UPDATE requests SET submit_state = 'unknown', submit_owner = NULL, updated_at = @now
       WHERE submit_state = 'submitting' AND (submit_owner IS NULL OR submit_owner NOT IN (
         SELECT owner FROM instances WHERE heartbeat_at > @aliveAfter AND owner NOT IN (SELECT value FROM json_each(@dead))))
       RETURNING request_id`,
    ),
    instancesOn: db.prepare<[string], { owner: string; pid: number }>(
      'SELECT owner, pid FROM instances WHERE host = ?',
    ),
    heartbeat: db.prepare(
      `INSERT INTO instances (owner, host, pid, started_at, heartbeat_at) VALUES (@owner, @host, @pid, @now, @now)
       ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    ),
    forgetInstance: db.prepare('DELETE FROM instances WHERE owner = ?'),
    // Releases this owner's claim, or an expired one, never another owner's live claim.
    scheduleCheck: db.prepare(
      `UPDATE requests SET next_check_at = @next, check_count = check_count + 1, check_owner = NULL,
         check_lease_until = NULL, updated_at = @now
       WHERE request_id = @requestId AND state = 'pending'
         AND (check_owner IS NULL OR check_owner = @owner OR check_lease_until <= @now)`,
    ),
    claimDue: db.prepare<Record<string, unknown>, { request_id: string }>(
      `UPDATE requests SET check_owner = @owner, check_lease_until = @leaseUntil
       WHERE request_id IN (
         SELECT request_id FROM requests
         WHERE state = 'pending' AND job_id IS NOT NULL
           AND COALESCE(next_check_at, created_at + @delay) <= @now
           AND (check_owner IS NULL OR check_lease_until <= @now)
         ORDER BY COALESCE(next_check_at, created_at + @delay) LIMIT @limit)
       RETURNING request_id`,
    ),
    rateBudget: db.prepare<[string], { grants: string; hold_until: number }>(
      'SELECT grants, hold_until FROM rate_budgets WHERE key = ?',
    ),
    putRateBudget: db.prepare(
      `INSERT INTO rate_budgets (key, grants, hold_until) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET grants = excluded.grants, hold_until = excluded.hold_until`,
    ),
    exists: db.prepare<[string], 1>('SELECT 1 FROM requests WHERE request_id = ?').pluck(),
    deliveryById: db.prepare<{ id: number }, DeliveryRow>(
      `${INDEXED_DELIVERIES} WHERE i.delivery_id = @id UNION ALL ${PENDING_DELIVERIES} AND d.delivery_id = @id`,
    ),
    byRequestId: db.prepare<{ id: string }, RequestRow>(
      `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.request_id = @id`,
    ),
    byJobId: db.prepare<{ id: string }, RequestRow>(
      // A minted (verified) request wins over an accepted one with the same jobId: anyone who knows an
      // --accept path can post an envelope naming any jobId, and must not shadow the real job.
      `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.job_id = @id
       ORDER BY (r.origin = 'minted') DESC, r.created_at DESC LIMIT 1`,
    ),
    deliveriesOf: db.prepare<{ requestId: string }, DeliveryRow>(
      `${INDEXED_DELIVERIES} WHERE i.request_id = @requestId
       UNION ALL ${PENDING_DELIVERIES} AND d.request_id = @requestId
       ORDER BY delivery_id`,
    ),
  };
}
