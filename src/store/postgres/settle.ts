import type pg from 'pg';
import type { RequestSettledEvent } from '../../types.js';
import { settledEventKey } from '../../types.js';

/**
 * Settles pending requests in one statement: state and deciding delivery, one run per registered handler
 * whose api matches (NULL: every api) when it succeeded or failed (an expired job has no result to hand
 * over), and one hint per request on `channel`. Returns the events of the requests it did settle. `ownerTag` marks the hints
 * this store sent, which it emits itself right after the commit.
 */
export async function settle(
  client: pg.ClientBase,
  events: readonly RequestSettledEvent[],
  nowMs: number,
  channel: string,
  ownerTag: string,
): Promise<RequestSettledEvent[]> {
  const { rows } = await client.query<{ request_id: string }>(
    `WITH e AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS e(request_id, state, delivery_id, event_key)
     ), s AS (
       UPDATE requests r SET state = e.state, outcome_delivery_id = e.delivery_id, completed_at = $5, updated_at = $5,
         check_owner = NULL, check_lease_until = NULL
       FROM e WHERE r.request_id = e.request_id AND r.state = 'pending'
       RETURNING r.request_id, r.job_id, r.api, r.state, r.outcome_delivery_id, e.event_key
     ), runs AS (
       INSERT INTO handler_runs (handler, event_key, request_id, delivery_id, state, attempts, next_attempt_at, updated_at)
       SELECT h.name, s.event_key, s.request_id, s.outcome_delivery_id, 'pending', 0, $5, $5
       FROM s JOIN handlers h ON h.api IS NULL OR h.api = s.api
       WHERE s.state IN ('succeeded', 'failed')
       ON CONFLICT (handler, event_key) DO NOTHING
     )
     SELECT s.request_id, pg_notify($6, json_build_object('requestId', s.request_id, 'jobId', s.job_id, 'api', s.api,
       'state', s.state, 'deliveryId', s.outcome_delivery_id, 'from', $7::text)::text)
     FROM s`,
    [
      events.map((e) => e.requestId),
      events.map((e) => e.state),
      events.map((e) => e.deliveryId),
      events.map((e) => settledEventKey(e.requestId)),
      nowMs,
      channel,
      ownerTag,
    ],
  );
  const done = new Set(rows.map((r) => r.request_id));
  return events.filter((e) => done.has(e.requestId));
}
