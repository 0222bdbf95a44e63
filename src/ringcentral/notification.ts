import type { EnvelopeParseResult, NotificationSummary } from '../types.js';
import { EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX } from '../types.js';

/**
 * The indexer's view of a subscription request's body (reference §10–12): a push notification
 * `{uuid, event, timestamp, subscriptionId, ownerId, body}`, whose body may be ACE insights, or a
 * `RecordingInsights` read back through ACE's REST endpoints (no envelope; stored by the backfill).
 * Pure and permissive: only what records are keyed by is required; the bytes stay in the store.
 */

/** Fields of ACE insights the parser reads: in an envelope's `body`, or at the top of a read-back record. */
export const NOTIFICATION_BODY_FIELDS = [
  'domain',
  'sourceRecordId',
  'sourceSessionId',
  'lastModifiedTime',
  'title',
] as const;
/** The top-level fields a projection of a large body must keep for `parseNotification` to decide as on the whole. */
export const NOTIFICATION_FIELDS = [
  'uuid',
  'event',
  'timestamp',
  'subscriptionId',
  ...NOTIFICATION_BODY_FIELDS,
] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A string from a string or a finite number (ids arrive as either), without NUL characters (PostgreSQL's
 * text refuses them, and a receipt its indexer cannot write would stall every pass behind it); longer than
 * `maxChars`: null, as if absent (an id that long is no id, and a hint must fit PostgreSQL's 8000 bytes).
 */
function text(value: unknown, maxChars = 2048): string | null {
  let out: string | null = null;
  if (typeof value === 'string') out = value.replaceAll('\u0000', '');
  else if (typeof value === 'number' && Number.isFinite(value)) out = String(value);
  return out === null || out === '' || out.length > maxChars ? null : out;
}

/**
 * An id (a key of events and records): as `text`, but one holding a NUL is no id at all rather than the
 * id without it, which would merge it with another record's.
 */
function id(value: unknown, maxChars: number): string | null {
  return typeof value === 'string' && value.includes('\u0000') ? null : text(value, maxChars);
}

/** Key fields of a record, hinted across processes: short (a domain is a word, ids are a few dozen chars). */
const MAX_DOMAIN_CHARS = 64;
const MAX_ID_CHARS = 512;

function insightsOf(value: unknown): NotificationSummary['insights'] {
  if (!isRecord(value)) return null;
  const domain = id(value.domain, MAX_DOMAIN_CHARS);
  const sourceRecordId = id(value.sourceRecordId, MAX_ID_CHARS);
  if (domain === null || sourceRecordId === null) return null;
  return {
    domain,
    sourceRecordId,
    sourceSessionId: text(value.sourceSessionId, MAX_ID_CHARS),
    lastModifiedTime: text(value.lastModifiedTime),
    title: text(value.title),
  };
}

/** Reads an already decoded JSON value (a whole body, or a worker's projection of a large one). */
export function notificationOf(value: unknown): EnvelopeParseResult {
  if (!isRecord(value)) return { ok: false, error: 'not a notification: the JSON is not an object' };
  const uuid = id(value.uuid, MAX_ID_CHARS);
  const event = text(value.event);
  let summary: NotificationSummary;
  if (uuid !== null && event !== null) {
    summary = {
      uuid,
      event,
      subscriptionId: text(value.subscriptionId, MAX_ID_CHARS),
      timestamp: text(value.timestamp),
      insights: insightsOf(value.body),
    };
  } else {
    // No envelope: a RecordingInsights read back through REST (the backfill stores them so).
    const insights = insightsOf(value);
    if (insights === null) {
      return {
        ok: false,
        error: 'not a notification: no `uuid` and `event`, and no ACE `domain` and `sourceRecordId`',
      };
    }
    summary = { uuid: null, event: null, subscriptionId: null, timestamp: null, insights };
  }
  return {
    ok: true,
    envelope: {
      jobId: null,
      api: null,
      status: summary.uuid === null ? 'Insights' : 'Notification',
      creationTime: summary.timestamp,
      completionTime: null,
      expirationTime: null,
      notification: summary,
    },
  };
}

export function parseNotification(body: Buffer | string): EnvelopeParseResult {
  const decoded = typeof body === 'string' ? body : body.toString('utf8');
  const source = decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  return notificationOf(value);
}

/** The renewal-reminder event filter (reference §5): `?threshold=…&interval=…` in a subscription's filters. */
export const RENEWAL_REMINDER_FILTER = '/restapi/v1.0/subscription/~';

/**
 * Whether a notification's `event` falls under a subscription filter: path segments compared one by one,
 * `~` in the filter matching any segment (the platform resolves `~` to ids in events, reference §16.5), and
 * every query parameter of the filter present with its value in the event (extra ones allowed).
 */
export function eventMatchesFilter(filter: string, event: string): boolean {
  const [fPath = '', fQuery = ''] = filter.split('?', 2);
  const [ePath = '', eQuery = ''] = event.split('?', 2);
  const f = fPath.replace(/\/+$/, '').split('/');
  const e = ePath.replace(/\/+$/, '').split('/');
  if (f.length !== e.length) return false;
  if (!f.every((segment, i) => segment === '~' || segment === e[i])) return false;
  if (fQuery === '') return true;
  const present = new URLSearchParams(eQuery);
  for (const [key, value] of new URLSearchParams(fQuery)) {
    if (!present.getAll(key).includes(value)) return false;
  }
  return true;
}

/** Whether a handler topic (see `EVENT_TOPIC_PREFIX`) takes this notification's event / insights version. */
export function topicTakes(topic: string, n: NotificationSummary, what: 'event' | 'insights'): boolean {
  if (what === 'event') {
    if (!topic.startsWith(EVENT_TOPIC_PREFIX) || n.event === null) return false;
    const filter = topic.slice(EVENT_TOPIC_PREFIX.length);
    return filter === '*' || eventMatchesFilter(filter, n.event);
  }
  if (!topic.startsWith(INSIGHTS_TOPIC_PREFIX) || n.insights === null) return false;
  const domain = topic.slice(INSIGHTS_TOPIC_PREFIX.length);
  return domain === '*' || domain === n.insights.domain;
}

/**
 * The version order of insight records: `lastModifiedTime` in ms; unreadable (-1) never beats readable. A
 * date-time without an offset is read as UTC (the platform's times are UTC; `Date.parse` would take the
 * machine's zone, and two instances in different zones would order and key versions differently).
 */
export function insightsVersionMs(lastModifiedTime: string | null): number {
  const at = lastModifiedTime ?? '';
  const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(at) ? `${at}Z` : at;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? -1 : ms;
}
