import { isUtf8 } from 'node:buffer';
import { displayStateOf, type DisplayState } from '../store/display-state.js';
import { readOutcome } from '../store/outcome.js';
import type { Store } from '../store/store.js';
import type { DeliveryRecord, HandlerRun, RequestRecord } from '../types.js';
import { exportableFormats, type ExportFormat } from './exports.js';
import { buildTimeline, type TimelineEvent } from './timeline.js';

/** JSON views shared by the local API and the CLI: bodies as text when they are UTF-8, base64 otherwise. */
export interface DeliveryView extends Omit<DeliveryRecord, 'body' | 'rawHeaders'> {
  headers: [string, string][];
  bodyText: string | null;
  bodyBase64: string | null;
  bodyBytes: number;
}

/** A request as lists show it: one state for everyone (see `displayStateOf`), and the dead-letter marker. */
export type RequestListView = RequestRecord & {
  displayState: DisplayState;
  /** Some handler or forward run of it gave up (state `dead`); independent of the request's own state. */
  deadLettered: boolean;
};

export interface RequestDetailView {
  request: RequestRecord;
  deliveries: DeliveryView[];
  /** Result handler and forwarding runs, with attempts and errors. */
  handlerRuns?: HandlerRun[];
  /** The same state the list and `?state=` filter use. */
  displayState?: DisplayState;
  deadLettered?: boolean;
  /** Formats `GET …/export.<format>` can build for the outcome's result; empty without an outcome. */
  exportFormats?: ExportFormat[];
  /** What the store recorded, oldest first (see timeline.ts). */
  timeline?: TimelineEvent[];
  /** Further jobs whose results arrived on this request's callback URL (their `parentRequestId` is this one). */
  jobsOnUrl?: RequestListView[];
}

export function toDeliveryView(delivery: DeliveryRecord): DeliveryView {
  const { body, rawHeaders, ...rest } = delivery;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  const text = isUtf8(body);
  return {
    ...rest,
    headers,
    bodyBytes: body.length,
    bodyText: text ? body.toString('utf8') : null,
    bodyBase64: text ? null : body.toString('base64'),
  };
}

const isDead = (runs: readonly HandlerRun[]): boolean => runs.some((run) => run.state === 'dead');

export async function toListView(store: Store, request: RequestRecord): Promise<RequestListView> {
  const runs = await store.listHandlerRuns(request.requestId);
  return { ...request, displayState: displayStateOf(request), deadLettered: isDead(runs) };
}

/** Everything the inspector's request page shows, read from the store. */
export async function readRequestDetail(store: Store, request: RequestRecord): Promise<RequestDetailView> {
  const deliveries = (await store.listDeliveries(request.requestId)).map(toDeliveryView);
  const handlerRuns = await store.listHandlerRuns(request.requestId);
  const outcome = await readOutcome(store, request);
  const children = await store.listRequests({ parentRequestId: request.requestId, limit: 1000 });
  return {
    request,
    deliveries,
    handlerRuns,
    displayState: displayStateOf(request),
    deadLettered: isDead(handlerRuns),
    exportFormats: outcome ? exportableFormats(outcome.envelope.response) : [],
    timeline: buildTimeline(request, deliveries, handlerRuns),
    jobsOnUrl: await Promise.all(children.map((child) => toListView(store, child))),
  };
}
