import { JobhookError } from '../../errors.js';
import type { HandlerRun } from '../../types.js';
import type { RunOutcome } from '../store.js';
import { NOW_MS, type Database } from './database.js';
import { toHandlerRun, type RunRow } from './rows.js';

/**
 * The durable handler queue on PostgreSQL (see `HandlerQueue` in store.ts). Runs are created by the
 * settling transaction (index-tx.ts); here they are leased to `owner` on the database's clock, completed
 * only by that owner, and made pending again by `retry`. Claims skip rows another instance is claiming at
 * that moment (SKIP LOCKED), so instances never wait on each other's claims.
 */
export class PgHandlerQueue {
  constructor(
    readonly db: Database,
    readonly owner: string,
  ) {}

  async register(name: string, api: string | null): Promise<void> {
    await this.db.query(
      'register a handler',
      `INSERT INTO handlers (name, api, registered_at) VALUES ($1, $2, ${NOW_MS})
       ON CONFLICT (name) DO UPDATE SET api = EXCLUDED.api`,
      [name, api],
    );
  }

  async claim(handler: string, leaseMs: number, limit: number): Promise<HandlerRun[]> {
    const { rows } = await this.db.query<RunRow>(
      'claim handler runs',
      `WITH now AS (SELECT ${NOW_MS} AS ms),
       due AS (
         SELECT h.handler, h.event_key FROM handler_runs h, now
         WHERE h.handler = $1
           AND ((h.state = 'pending' AND h.next_attempt_at <= now.ms) OR (h.state = 'running' AND h.lease_until <= now.ms))
         ORDER BY h.next_attempt_at, h.event_key LIMIT $3
         FOR UPDATE OF h SKIP LOCKED
       ), claimed AS (
         UPDATE handler_runs h SET state = 'running', owner = $4, lease_until = now.ms + $2, attempts = h.attempts + 1,
           updated_at = now.ms
         FROM due, now WHERE h.handler = due.handler AND h.event_key = due.event_key
         RETURNING h.*
       )
       SELECT * FROM claimed ORDER BY next_attempt_at, event_key`,
      [handler, leaseMs, limit, this.owner],
    );
    return rows.map(toHandlerRun);
  }

  /** Only the owner of a running lease writes; otherwise nothing changes and the lease is reported lost. */
  async complete(run: { handler: string; eventKey: string }, outcome: RunOutcome): Promise<void> {
    const params = [run.handler, run.eventKey, this.owner];
    const where = `WHERE handler = $1 AND event_key = $2 AND owner = $3 AND state = 'running'`;
    const result = outcome.ok
      ? await this.db.query(
          'complete a handler run',
          `UPDATE handler_runs SET state = 'succeeded', owner = NULL, lease_until = NULL, last_error = NULL,
             updated_at = ${NOW_MS} ${where}`,
          params,
        )
      : await this.db.query(
          'complete a handler run',
          `UPDATE handler_runs SET state = CASE WHEN $4::bigint IS NULL THEN 'dead' ELSE 'pending' END,
             next_attempt_at = COALESCE(now.ms + $4::bigint, next_attempt_at), owner = NULL, lease_until = NULL,
             last_error = $5, updated_at = now.ms
           FROM (SELECT ${NOW_MS} AS ms) now ${where}`,
          [...params, outcome.retryInMs, outcome.error],
        );
    if (result.rowCount === 0) {
      throw new JobhookError(
        'JH_ERR_LEASE_LOST',
        `the run of handler ${run.handler} for ${run.eventKey} is not leased by this process any more (${this.owner})`,
      );
    }
  }

  async list(requestId: string): Promise<HandlerRun[]> {
    const { rows } = await this.db.query<RunRow>(
      'list handler runs',
      'SELECT * FROM handler_runs WHERE request_id = $1 ORDER BY handler, event_key',
      [requestId],
    );
    return rows.map(toHandlerRun);
  }

  /**
   * Dead runs, or with `all` every run not leased right now: a run still leased is left alone even for a
   * replay, which would hand it to a second owner while the first still runs it.
   */
  async retry(requestId: string, all: boolean): Promise<number> {
    const result = await this.db.query(
      'retry handler runs',
      `WITH now AS (SELECT ${NOW_MS} AS ms)
       UPDATE handler_runs h SET state = 'pending', attempts = 0, next_attempt_at = now.ms, owner = NULL,
         lease_until = NULL, updated_at = now.ms
       FROM now
       WHERE h.request_id = $1 AND (h.state = 'dead' OR ($2 AND NOT (h.state = 'running' AND h.lease_until > now.ms)))`,
      [requestId, all],
    );
    return result.rowCount ?? 0;
  }
}
