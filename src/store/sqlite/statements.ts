import type Database from 'better-sqlite3';
import type { RequestKind, RequestOrigin, RequestState } from '../../types.js';
import type { DeliveryRow, RequestRow } from './rows.js';

/** Every prepared statement of the SQLite store, and the SQL they share. */
export const SECRETS_KEY = 'callback_secrets';
export const WATERMARK_KEY = 'indexed_through';
export const SETTLED_SEQ_KEY = 'settled_seq';
export const DEFAULT_INDEX_LIMIT = 1000;

/** Receipts above the watermark, not yet indexed: visible at once as `pending`, each with count 1. */
const PENDING_DELIVERIES = `SELECT d.delivery_id, d.request_id, d.source, d.body, d.body_file, d.body_sha256, d.raw_headers,
    1 AS count, d.received_at AS first_received_at, d.received_at AS last_received_at,
    'pending' AS parse_state, NULL AS parse_error, NULL AS job_id, NULL AS api, NULL AS status,
    NULL AS creation_time, NULL AS completion_time, NULL AS expiration_time
  FROM deliveries d WHERE d.delivery_id > @watermark`;
const INDEXED_DELIVERIES = `SELECT d.delivery_id, d.request_id, d.source, d.body, d.body_file, d.body_sha256, d.raw_headers,
    i.count, i.first_received_at, i.last_received_at, i.parse_state, i.parse_error, i.job_id, i.api, i.status,
    i.creation_time, i.completion_time, i.expiration_time
  FROM delivery_index i JOIN deliveries d USING (delivery_id)`;
export const REQUEST_COLUMNS = `r.*,
  (SELECT COALESCE(SUM(i.count), 0) FROM delivery_index i WHERE i.request_id = r.request_id)
  + (SELECT COUNT(*) FROM deliveries d WHERE d.delivery_id > @watermark AND d.request_id = r.request_id)
  AS delivery_count`;

export interface RequestCacheEntry {
  state: RequestState;
  jobId: string | null;
  api: string | null;
  kind: RequestKind;
  origin: RequestOrigin;
  callbackUrl: string | null;
}

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
  const watermark = `SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = '${WATERMARK_KEY}'), 0)`;
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
    pendingPage: db.prepare<[number, number], PendingRow>(
      `SELECT delivery_id, request_id, source, body_file, body_sha256, received_at, accepted_path FROM deliveries
       WHERE delivery_id > ? ORDER BY delivery_id LIMIT ?`,
    ),
    /** Spooled receipts above the watermark whose bytes no indexed delivery of the request already has. */
    unparsedSpooled: db.prepare<[number, number], { delivery_id: number; body_file: string }>(
      `SELECT d.delivery_id, d.body_file FROM deliveries d
       WHERE d.delivery_id > ? AND d.body_file IS NOT NULL AND NOT EXISTS (
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
    insertIndex: db.prepare(
      `INSERT INTO delivery_index (delivery_id, request_id, source, body_sha256, first_received_at,
         last_received_at, parse_state, parse_error, job_id, api, status, creation_time, completion_time,
         expiration_time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    requestState: db.prepare<[string], RequestCacheEntry>(
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
    settle: db.prepare(
      `UPDATE requests SET state = ?, outcome_delivery_id = ?, completed_at = ?, updated_at = ?, settled_seq = ?
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
    maxSettledSeq: db.prepare<[], number>('SELECT COALESCE(MAX(settled_seq), 0) FROM requests').pluck(),
    updateSubmission: db.prepare(
      `UPDATE requests SET submit_state = ?, job_id = COALESCE(job_id, ?), submit_error = ?, updated_at = ?
       WHERE request_id = ?`,
    ),
    interrupted: db.prepare<[number], { request_id: string }>(
      `UPDATE requests SET submit_state = 'unknown', updated_at = ? WHERE submit_state = 'submitting'
       RETURNING request_id`,
    ),
    scheduleCheck: db.prepare(
      'UPDATE requests SET next_check_at = ?, check_count = check_count + 1, updated_at = ? WHERE request_id = ?',
    ),
    deliveryById: db.prepare<{ id: number; watermark: number }, DeliveryRow>(
      `${INDEXED_DELIVERIES} WHERE i.delivery_id = @id UNION ALL ${PENDING_DELIVERIES} AND d.delivery_id = @id`,
    ),
    byRequestId: db.prepare<{ id: string; watermark: number }, RequestRow>(
      `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.request_id = @id`,
    ),
    byJobId: db.prepare<{ id: string; watermark: number }, RequestRow>(
      // A minted (verified) request wins over an accepted one with the same jobId: anyone who knows an
      // --accept path can post an envelope naming any jobId, and must not shadow the real job.
      `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.job_id = @id
       ORDER BY (r.origin = 'minted') DESC, r.created_at DESC LIMIT 1`,
    ),
    deliveriesOf: db.prepare<{ requestId: string; watermark: number }, DeliveryRow>(
      `${INDEXED_DELIVERIES} WHERE i.request_id = @requestId
       UNION ALL ${PENDING_DELIVERIES} AND d.request_id = @requestId
       ORDER BY delivery_id`,
    ),
    watermark: db.prepare<[], number>(watermark).pluck(),
  };
}
