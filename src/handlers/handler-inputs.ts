import { insightsOfStoredBody, type AceRecordingInsights } from '../ringcentral/ace.js';
import type { DeliveryRecord, DeliverySource, EventRecord, InsightsKey, RequestRecord } from '../types.js';

/** What every handler input carries: the run's identity and the stored bytes it is about. */
interface RunInputBase {
  /** The run's event: `settled:<requestId>`, `event:<uuid>` or `insights:<domain>:<sourceRecordId>:<ms>`. */
  eventKey: string;
  requestId: string;
  /** The exact bytes stored for the delivery the run is about, and its content type as received. */
  body: Buffer;
  contentType: string | null;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * Aborted when the runner gives up on this attempt: `stop()`'s grace ran out. The attempt is then left
   * to its lease and runs again later (at least once), so stop promptly; pass it to fetch and the like.
   */
  signal: AbortSignal;
}

/** What a result handler receives: one terminal result (Success or Fail) of one request. */
export interface HandlerInput extends RunInputBase {
  jobId: string | null;
  api: string | null;
  status: 'Success' | 'Fail';
  /**
   * The envelope's `response`: the typed result on Success, `{errors}` on Fail. Parsed from `body` on first
   * access (with `envelope`), so a handler that only passes the bytes on never parses a large result.
   */
  response: unknown;
  /** The whole envelope, parsed on first access. */
  envelope: Record<string, unknown>;
}

/** What an event handler (`onEvent`) receives: one push notification, stored once by its `uuid`. */
export interface EventHandlerInput extends RunInputBase {
  uuid: string;
  /** The notification's event, ids resolved (e.g. `/ai/ringsense/v1/public/accounts/37439510/domains/pbx/insights`). */
  event: string;
  subscriptionId: string | null;
  timestamp: string | null;
  /** The whole envelope `{uuid, event, timestamp, subscriptionId, ownerId, body}`, parsed on first access. */
  envelope: Record<string, unknown>;
}

/**
 * What an insights handler (`onInsights`) receives: one new version of an ACE insight record, by webhook or
 * read back through REST. A call with AI Notes gives two versions: the handler sees each (newest last,
 * unless they raced); `record` is the version this run was created for.
 */
export interface InsightsHandlerInput extends RunInputBase {
  domain: string;
  sourceRecordId: string;
  /** The version's `lastModifiedTime`, as an ISO date-time in UTC (null when the record's was unreadable). */
  lastModifiedTime: string | null;
  /** `webhook`, or `status-poll` when read back through ACE's REST endpoints. */
  source: DeliverySource;
  /**
   * The record (`title`, `speakerInfo`, `insights.Transcript`…), parsed permissively on first access
   * (`HighLights` → `Highlights`, `AIScore` a string, unknown types kept).
   */
  record: AceRecordingInsights;
}

export type AnyHandlerInput = HandlerInput | EventHandlerInput | InsightsHandlerInput;

interface Common {
  eventKey: string;
  attempt: number;
  signal: AbortSignal;
}

function contentTypeOf(delivery: DeliveryRecord): string | null {
  const headers = delivery.rawHeaders;
  const typeAt = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type');
  return typeAt >= 0 ? (headers[typeAt + 1] ?? null) : null;
}

/** The handler's view of a settlement run; the envelope is parsed only if the handler reads it. */
export function resultInput(request: RequestRecord, delivery: DeliveryRecord, common: Common): HandlerInput {
  let envelope: Record<string, unknown> | undefined;
  // Only a delivery parsed as an envelope settles a request (see readOutcome), so the body is JSON.
  const parsed = (): Record<string, unknown> =>
    (envelope ??= JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown>);
  return {
    ...common,
    requestId: request.requestId,
    jobId: request.jobId,
    api: request.api,
    status: request.state === 'succeeded' ? 'Success' : 'Fail',
    body: delivery.body,
    contentType: contentTypeOf(delivery),
    get envelope() {
      return parsed();
    },
    get response() {
      return parsed().response;
    },
  };
}

/** The decoded JSON of a notification body (a UTF-8 BOM skipped, as the parser does). */
function jsonOf(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  return JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as Record<string, unknown>;
}

/**
 * The handler's view of an event run, from the stored event's row: the body (up to an hour-long transcript)
 * is parsed only if the handler reads `envelope`, so a forward passes the bytes on without a parse.
 */
export function eventInput(delivery: DeliveryRecord, event: EventRecord, common: Common): EventHandlerInput {
  let envelope: Record<string, unknown> | undefined;
  return {
    ...common,
    requestId: delivery.requestId,
    body: delivery.body,
    contentType: contentTypeOf(delivery),
    uuid: event.uuid,
    event: event.event,
    subscriptionId: event.subscriptionId,
    timestamp: event.timestamp,
    get envelope() {
      return (envelope ??= jsonOf(delivery.body));
    },
  };
}

/**
 * The `(domain, sourceRecordId)` and version of an insights run's key, `insights:<domain>:<id>:<ms>` (a
 * domain has no colon; an id may), or null for another key.
 */
export function insightsRunKey(eventKey: string): (InsightsKey & { versionMs: number }) | null {
  const rest = eventKey.startsWith('insights:') ? eventKey.slice('insights:'.length) : null;
  const domainEnd = rest?.indexOf(':') ?? -1;
  const versionAt = rest?.lastIndexOf(':') ?? -1;
  if (rest === null || domainEnd <= 0 || versionAt <= domainEnd) return null;
  const versionMs = Number(rest.slice(versionAt + 1));
  if (!Number.isInteger(versionMs)) return null;
  return { domain: rest.slice(0, domainEnd), sourceRecordId: rest.slice(domainEnd + 1, versionAt), versionMs };
}

/** The handler's view of an insights run, from its key; the record is parsed only if the handler reads it. */
export function insightsInput(
  delivery: DeliveryRecord,
  key: InsightsKey & { versionMs: number },
  common: Common,
): InsightsHandlerInput {
  let record: AceRecordingInsights | undefined;
  return {
    ...common,
    requestId: delivery.requestId,
    body: delivery.body,
    contentType: contentTypeOf(delivery),
    domain: key.domain,
    sourceRecordId: key.sourceRecordId,
    lastModifiedTime: key.versionMs < 0 ? null : new Date(key.versionMs).toISOString(),
    source: delivery.source,
    get record() {
      return (record ??= insightsOfStoredBody(delivery.body));
    },
  };
}
