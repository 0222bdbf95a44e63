import type Database from 'better-sqlite3';
import type { RequestRecord } from '../../types.js';
import type { RequestQuery } from '../store.js';
import { toRequestRecord, type RequestRow } from './rows.js';
import { REQUEST_COLUMNS } from './statements.js';

/** The SQLite store's queries whose SQL depends on their arguments (filters), outside the prepared set. */
export function listRequests(db: Database.Database, query: RequestQuery): RequestRecord[] {
  const where: string[] = [];
  if (query.state === 'rejected' || query.state === 'unknown') {
    where.push("r.state = 'pending' AND r.submit_state = @state");
  } else if (query.state === 'pending') {
    where.push("r.state = 'pending' AND r.submit_state NOT IN ('rejected', 'unknown')");
  } else if (query.state) where.push('r.state = @state');
  if (query.api) where.push('r.api = @api');
  if (query.parentRequestId) where.push('r.parent_request_id = @parentRequestId');
  const sql = `SELECT ${REQUEST_COLUMNS} FROM requests r ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY r.created_at DESC, r.request_id DESC LIMIT @limit`;
  return db
    .prepare<Record<string, unknown>, RequestRow>(sql)
    .all({ state: query.state, api: query.api, parentRequestId: query.parentRequestId, limit: query.limit ?? 100 })
    .map(toRequestRecord);
}

export function requestsByIds(db: Database.Database, ids: readonly string[]): RequestRecord[] {
  if (ids.length === 0) return [];
  const sql = `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.request_id IN (SELECT value FROM json_each(@ids))
    ORDER BY COALESCE(r.next_check_at, r.created_at)`;
  return db
    .prepare<Record<string, unknown>, RequestRow>(sql)
    .all({ ids: JSON.stringify(ids) })
    .map(toRequestRecord);
}

export function countNotYetDue(
  db: Database.Database,
  nowMs: number,
  firstCheckAfterMs: number,
): { count: number; nextDueAtMs: number | null } {
  const sql = `SELECT COUNT(*) AS count, MIN(COALESCE(r.next_check_at, r.created_at + @delay)) AS nextDueAtMs
    FROM requests r WHERE r.state = 'pending' AND r.job_id IS NOT NULL
      AND COALESCE(r.next_check_at, r.created_at + @delay) > @now`;
  return db
    .prepare<Record<string, unknown>, { count: number; nextDueAtMs: number | null }>(sql)
    .get({ delay: firstCheckAfterMs, now: nowMs })!;
}
