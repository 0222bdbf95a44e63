import type { DeliveryRecord, HandlerRun, RequestRecord } from '../types.js';
import type { DeliveryView } from './request-view.js';

/**
 * A request's history as the store recorded it, oldest first: minted → submitted → each delivery or status
 * read → settled → each handler or forward run. Only recorded facts: the store keeps one time per request
 * row (created, updated, completed), first and last receipt per delivery and the last update per run, so
 * there is no event for, say, each retry of a run — its attempts are counted on its one entry instead.
 */
export type TimelineEvent =
  | { kind: 'minted'; at: string; origin: RequestRecord['origin'] }
  | {
      kind: 'submitted';
      at: null;
      submitState: RequestRecord['submitState'];
      error: string | null;
      jobId: string | null;
    }
  | {
      kind: 'delivery';
      at: string;
      lastAt: string;
      deliveryId: number;
      source: DeliveryRecord['source'];
      count: number;
      /** The envelope's status (`Success`, `Fail`, `InProgress`…), or null when it has none. */
      status: string | null;
      parseState: DeliveryRecord['parseState'];
    }
  | { kind: 'settled'; at: string; state: RequestRecord['state']; deliveryId: number | null }
  | {
      kind: 'run';
      at: string;
      handler: string;
      state: HandlerRun['state'];
      attempts: number;
      lastError: string | null;
    };

type TimelineDelivery = Pick<
  DeliveryView,
  'deliveryId' | 'source' | 'count' | 'firstReceivedAt' | 'lastReceivedAt' | 'parseState' | 'envelope'
>;

export function buildTimeline(
  request: RequestRecord,
  deliveries: readonly TimelineDelivery[],
  runs: readonly HandlerRun[],
): TimelineEvent[] {
  const events: TimelineEvent[] = [{ kind: 'minted', at: request.createdAt, origin: request.origin }];
  // The store keeps no submission time; the entry sits right after minting, where submission happens.
  // Requests that were never submitted by jobhook (accepted paths, further jobs on one URL) have none.
  if (request.kind === 'job' && request.origin === 'minted' && request.parentRequestId === null) {
    events.push({
      kind: 'submitted',
      at: null,
      submitState: request.submitState,
      error: request.submitError,
      jobId: request.jobId,
    });
  }
  const later: TimelineEvent[] = deliveries.map((d) => ({
    kind: 'delivery',
    at: d.firstReceivedAt,
    lastAt: d.lastReceivedAt,
    deliveryId: d.deliveryId,
    source: d.source,
    count: d.count,
    status: d.envelope?.status ?? null,
    parseState: d.parseState,
  }));
  if (request.state !== 'pending' && request.completedAt) {
    later.push({
      kind: 'settled',
      at: request.completedAt,
      state: request.state,
      deliveryId: request.outcomeDeliveryId,
    });
  }
  for (const run of runs) {
    later.push({
      kind: 'run',
      at: run.updatedAt,
      handler: run.handler,
      state: run.state,
      attempts: run.attempts,
      lastError: run.lastError,
    });
  }
  // Stable sort: at equal times the order above (delivery, then settled, then runs) is the causal one.
  later.sort((a, b) => Date.parse(a.at!) - Date.parse(b.at!));
  return [...events, ...later];
}
