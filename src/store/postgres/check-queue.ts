import { JobhookError } from '../../errors.js';
import type { RequestRecord, RequestSettledEvent } from '../../types.js';
import { toRequestRecord, type RequestRow } from '../sqlite/rows.js';
import { NOW_MS, type Database } from './database.js';
import { REQUEST_SELECT } from './rows.js';

/**
 * Reconciliation's queue on PostgreSQL (see `CheckQueue` in store.ts): a due status check is claimed by
 * `owner` until `check_lease_until` on the database's clock, so instances sharing one rate budget never
 * read one job's status twice (nor one instance twice: its own live claims are not offered again either);
 * `scheduleCheck` releases the claim with the next due time.
 */
export class PgCheckQueue {
  constructor(
    readonly db: Database,
    readonly owner: string,
  ) {}

  async claim(firstCheckAfterMs: number, leaseMs: number, limit: number): Promise<RequestRecord[]> {
    const due = 'COALESCE(r.next_check_at, r.created_at + $1)';
    const { rows } = await this.db.query<RequestRow>(
      'claim due status checks',
      `WITH now AS (SELECT ${NOW_MS} AS ms),
       due AS (
         SELECT r.request_id FROM requests r, now
         WHERE r.state = 'pending' AND r.job_id IS NOT NULL AND ${due} <= now.ms
           AND (r.check_owner IS NULL OR r.check_lease_until <= now.ms)
         ORDER BY ${due}, r.request_id LIMIT $3
         FOR UPDATE OF r SKIP LOCKED
       ), claimed AS (
         UPDATE requests r SET check_owner = $4, check_lease_until = now.ms + $2
         FROM due, now WHERE r.request_id = due.request_id
         RETURNING r.request_id
       )
       ${REQUEST_SELECT} JOIN claimed c USING (request_id) ORDER BY ${due}, r.request_id`,
      [firstCheckAfterMs, leaseMs, limit, this.owner],
    );
    return rows.map(toRequestRecord);
  }

  async countNotYetDue(firstCheckAfterMs: number): Promise<{ count: number; nextDueAtMs: number | null }> {
    const { rows } = await this.db.query<{ count: number; next: number | null }>(
      'count checks not yet due',
      `SELECT COUNT(*) AS count, MIN(COALESCE(next_check_at, created_at + $1)) AS next FROM requests
       WHERE state = 'pending' AND job_id IS NOT NULL AND COALESCE(next_check_at, created_at + $1) > ${NOW_MS}`,
      [firstCheckAfterMs],
    );
    return { count: rows[0]!.count, nextDueAtMs: rows[0]!.next };
  }

  async schedule(requestId: string, inMs: number): Promise<boolean> {
    const result = await this.db.query(
      'schedule a status check',
      `WITH now AS (SELECT ${NOW_MS} AS ms)
       UPDATE requests r SET next_check_at = now.ms + $2, check_count = r.check_count + 1, check_owner = NULL,
         check_lease_until = NULL, updated_at = now.ms
       FROM now
       WHERE r.request_id = $1 AND r.state = 'pending'
         AND (r.check_owner IS NULL OR r.check_owner = $3 OR r.check_lease_until <= now.ms)`,
      [requestId, inMs, this.owner],
    );
    if (result.rowCount !== 0) return true;
    const exists = await this.db.query('schedule a status check', 'SELECT 1 FROM requests WHERE request_id = $1', [
      requestId,
    ]);
    if (exists.rowCount === 0) throw new JobhookError('JH_ERR_NOT_FOUND', `no request ${requestId}`);
    return false;
  }

  /** Settles `expired` with its hint (no handler runs: there is no result to hand over). */
  async markExpired(requestId: string, channel: string, ownerTag: string): Promise<RequestSettledEvent | null> {
    const { rows } = await this.db.query<{ request_id: string; job_id: string | null; api: string | null }>(
      'mark the request expired',
      `WITH now AS (SELECT ${NOW_MS} AS ms),
       s AS (
         UPDATE requests r SET state = 'expired', outcome_delivery_id = NULL, completed_at = now.ms,
           updated_at = now.ms, check_owner = NULL, check_lease_until = NULL
         FROM now WHERE r.request_id = $1 AND r.state = 'pending'
         RETURNING r.request_id, r.job_id, r.api
       )
       SELECT s.request_id, s.job_id, s.api, pg_notify($2, json_build_object('requestId', s.request_id,
         'jobId', s.job_id, 'api', s.api, 'state', 'expired', 'deliveryId', NULL, 'from', $3::text)::text)
       FROM s`,
      [requestId, channel, ownerTag],
    );
    const row = rows[0];
    return row
      ? { requestId: row.request_id, jobId: row.job_id, api: row.api, state: 'expired', deliveryId: null }
      : null;
  }
}
