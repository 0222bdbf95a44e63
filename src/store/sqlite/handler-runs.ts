import type Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';
import type { HandlerRun, RequestSettledEvent } from '../../types.js';
import { toHandlerRun as toRun, type RunRow } from './rows.js';
import { settledEventKey } from '../../types.js';
import type { RunOutcome } from '../store.js';

/**
 * SQL of the durable handler queue (see `handler_runs` in migration 0004); called inside store transactions.
 * Run states: pending (due at next_attempt_at) → running (leased by `owner` until `lease_until`) →
 * succeeded | pending (retry later) | dead; running with an expired lease is claimable again (its owner
 * stopped). SQLite's database clock is this machine's clock (the file is local): `Date.now()`.
 */
export function prepareHandlerRuns(db: Database.Database, owner: string) {
  const register = db.prepare(
    `INSERT INTO handlers (name, api, since_seq) VALUES (?, ?, 0)
     ON CONFLICT (name) DO UPDATE SET api = excluded.api`,
  );
  const createForSettlement = db.prepare(
    `INSERT INTO handler_runs (handler, event_key, request_id, delivery_id, next_attempt_at, updated_at)
     SELECT name, @eventKey, @requestId, @deliveryId, @now, @now FROM handlers WHERE api IS NULL OR api = @api
     ON CONFLICT (handler, event_key) DO NOTHING`,
  );
  const claim = db.prepare<Record<string, unknown>, RunRow>(
    `UPDATE handler_runs SET state = 'running', attempts = attempts + 1, owner = @owner, lease_until = @leaseUntil,
       updated_at = @now
     WHERE rowid IN (
       SELECT rowid FROM handler_runs
       WHERE handler = @handler
         AND ((state = 'pending' AND next_attempt_at <= @now) OR (state = 'running' AND lease_until <= @now))
       ORDER BY next_attempt_at LIMIT @limit)
     RETURNING *`,
  );
  // Only the owner whose lease holds completes a run: one whose lease ran out may find it taken over.
  const complete = db.prepare(
    `UPDATE handler_runs SET state = @state, next_attempt_at = COALESCE(@retryAt, next_attempt_at), owner = NULL,
       lease_until = NULL, last_error = @error, updated_at = @now
     WHERE handler = @handler AND event_key = @eventKey AND state = 'running' AND owner = @owner`,
  );
  const list = db.prepare<[string], RunRow>(
    'SELECT * FROM handler_runs WHERE request_id = ? ORDER BY handler, event_key',
  );
  // A run still leased by someone is left alone, even for a replay of every run: resetting it would hand
  // it to a second owner while the first is still running it.
  const retry = db.prepare(
    `UPDATE handler_runs SET state = 'pending', attempts = 0, next_attempt_at = @now, owner = NULL, lease_until = NULL,
       updated_at = @now
     WHERE request_id = @requestId
       AND (state = 'dead' OR (@all AND NOT (state = 'running' AND lease_until > @now)))`,
  );

  return {
    register: (name: string, api: string | null) => void register.run(name, api),
    /** In the settling transaction: one run per registered handler whose api matches. */
    createForSettlement: (event: RequestSettledEvent, nowMs: number) =>
      void createForSettlement.run({
        eventKey: settledEventKey(event.requestId),
        requestId: event.requestId,
        deliveryId: event.deliveryId,
        api: event.api,
        now: nowMs,
      }),
    claim: (handler: string, nowMs: number, leaseMs: number, limit: number): HandlerRun[] =>
      claim.all({ handler, owner, now: nowMs, leaseUntil: nowMs + leaseMs, limit }).map(toRun),
    complete(run: { handler: string; eventKey: string }, outcome: RunOutcome, nowMs: number): void {
      const changed = complete.run({
        handler: run.handler,
        eventKey: run.eventKey,
        owner,
        now: nowMs,
        state: outcome.ok ? 'succeeded' : outcome.retryInMs === null ? 'dead' : 'pending',
        retryAt: outcome.ok || outcome.retryInMs === null ? null : nowMs + outcome.retryInMs,
        error: outcome.ok ? null : outcome.error,
      }).changes;
      if (changed === 0) {
        throw new JobhookError(
          'JH_ERR_LEASE_LOST',
          `handler ${run.handler} no longer holds the lease on ${run.eventKey}: it expired and another process took the run over, or it was never claimed here`,
        );
      }
    },
    list: (requestId: string) => list.all(requestId).map(toRun),
    retry: (requestId: string, nowMs: number, all: boolean) =>
      retry.run({ requestId, now: nowMs, all: all ? 1 : 0 }).changes,
  };
}
