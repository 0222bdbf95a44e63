/**
 * The SQL that reads requests and deliveries as the SQLite store's row shapes (timestamps in ms), so both
 * stores share the mapping to records (`sqlite/rows.ts`). Every reader is one statement: PostgreSQL gives
 * it one snapshot, so indexed and not-yet-indexed rows never disagree (no watermark to read alongside).
 */

/** Requests with their receipt count: indexed counts plus receipts not indexed yet. */
export const REQUEST_SELECT = `SELECT r.*,
    (SELECT COALESCE(SUM(i.count), 0) FROM delivery_index i WHERE i.request_id = r.request_id)
    + (SELECT COUNT(*) FROM deliveries d WHERE d.request_id = r.request_id AND d.indexed_at IS NULL)
    AS delivery_count
  FROM requests r`;

const DELIVERY_COLUMNS = `d.delivery_id, d.request_id, d.source, d.body, NULL::text AS body_file, d.body_sha256,
  d.raw_headers`;

/** Indexed deliveries, with their count and parsed envelope. */
export const INDEXED_DELIVERIES = `SELECT ${DELIVERY_COLUMNS}, i.count, i.first_received_at, i.last_received_at,
    i.parse_state, i.parse_error, i.job_id, i.api, i.status, i.creation_time, i.completion_time, i.expiration_time
  FROM delivery_index i JOIN deliveries d USING (delivery_id)`;

/** Receipts not indexed yet: visible at once as `pending`, each with count 1. */
export const UNINDEXED_DELIVERIES = `SELECT ${DELIVERY_COLUMNS}, 1 AS count, d.received_at AS first_received_at,
    d.received_at AS last_received_at, 'pending' AS parse_state, NULL::text AS parse_error, NULL::text AS job_id,
    NULL::text AS api, NULL::text AS status, NULL::text AS creation_time, NULL::text AS completion_time,
    NULL::text AS expiration_time
  FROM deliveries d WHERE d.indexed_at IS NULL`;

export { toHandlerRun, type RunRow } from '../sqlite/rows.js';
