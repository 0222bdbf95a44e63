import type Database from 'better-sqlite3';
import type { HandlerRun } from '../../types.js';

/** SQL of the durable handler queue (see `handler_runs` in the schema); called inside store transactions. */
interface RunRow {
  handler: string;
  request_id: string;
  state: HandlerRun['state'];
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  updated_at: number;
}

const toRun = (r: RunRow): HandlerRun => ({
  handler: r.handler,
  requestId: r.request_id,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: new Date(r.next_attempt_at).toISOString(),
  lastError: r.last_error,
  updatedAt: new Date(r.updated_at).toISOString(),
});

export function prepareHandlerRuns(db: Database.Database) {
  const register = db.prepare(
    `INSERT INTO handlers (name, since_seq) VALUES (?, (SELECT COALESCE(MAX(settled_seq), 0) FROM requests))
     ON CONFLICT (name) DO NOTHING`,
  );
  const createOwed = db.prepare(
    `INSERT INTO handler_runs (handler, request_id, next_attempt_at, updated_at)
     SELECT h.name, r.request_id, @now, @now FROM handlers h JOIN requests r ON r.settled_seq > h.since_seq
     WHERE h.name = @handler AND r.state IN ('succeeded', 'failed') AND (@api IS NULL OR r.api = @api)
     ON CONFLICT (handler, request_id) DO NOTHING`,
  );
  const claim = db.prepare<Record<string, unknown>, RunRow>(
    `UPDATE handler_runs SET state = 'running', attempts = attempts + 1, lease_until = @leaseUntil, updated_at = @now
     WHERE rowid IN (
       SELECT rowid FROM handler_runs
       WHERE handler = @handler
         AND ((state = 'pending' AND next_attempt_at <= @now) OR (state = 'running' AND lease_until <= @now))
       ORDER BY next_attempt_at LIMIT @limit)
     RETURNING *`,
  );
  const succeed = db.prepare(
    `UPDATE handler_runs SET state = 'succeeded', lease_until = NULL, last_error = NULL, updated_at = ?
     WHERE handler = ? AND request_id = ?`,
  );
  const fail = db.prepare(
    `UPDATE handler_runs SET state = ?, next_attempt_at = COALESCE(?, next_attempt_at), lease_until = NULL,
       last_error = ?, updated_at = ?
     WHERE handler = ? AND request_id = ?`,
  );
  const list = db.prepare<[string], RunRow>('SELECT * FROM handler_runs WHERE request_id = ? ORDER BY handler');
  // A run still leased by someone is left alone, even for a replay of every run: resetting it would hand
  // it to a second owner while the first is still running it.
  const retry = db.prepare(
    `UPDATE handler_runs SET state = 'pending', attempts = 0, next_attempt_at = @now, updated_at = @now
     WHERE request_id = @requestId
       AND (state = 'dead' OR (@all AND NOT (state = 'running' AND lease_until > @now)))`,
  );

  return {
    register: (name: string) => void register.run(name),
    claim(handler: string, api: string | null, nowMs: number, leaseMs: number, limit: number): HandlerRun[] {
      createOwed.run({ handler, api, now: nowMs });
      return claim.all({ handler, now: nowMs, leaseUntil: nowMs + leaseMs, limit }).map(toRun);
    },
    complete(
      handler: string,
      requestId: string,
      outcome: { ok: true } | { ok: false; error: string; retryAtMs: number | null },
      nowMs: number,
    ): void {
      if (outcome.ok) succeed.run(nowMs, handler, requestId);
      else
        fail.run(
          outcome.retryAtMs === null ? 'dead' : 'pending',
          outcome.retryAtMs,
          outcome.error,
          nowMs,
          handler,
          requestId,
        );
    },
    list: (requestId: string) => list.all(requestId).map(toRun),
    retry: (requestId: string, nowMs: number, all: boolean) =>
      retry.run({ requestId, now: nowMs, all: all ? 1 : 0 }).changes,
  };
}
