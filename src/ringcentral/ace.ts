import { JobhookError } from '../errors.js';

/**
 * AI Conversation Expert (ACE, formerly RingSense) insights: event filters, the push-notification
 * envelope and a permissive parser of the insights body (reference §10–12). The docs, the spec and the
 * samples disagree on details (`HighLights` vs `Highlights`, `AIScore` as a string, keys such as `QnA`
 * in no table), so parsing keeps whatever arrives and normalises only what is known to vary.
 */
export const ACE_DOMAINS = ['pbx', 'rcv', 'rcx', 'ms-teams', 'nice-incontact'] as const;
export type AceDomain = (typeof ACE_DOMAINS)[number];

export function isAceDomain(value: unknown): value is AceDomain {
  return typeof value === 'string' && (ACE_DOMAINS as readonly string[]).includes(value);
}

/** The insights event filter of a domain; `~` is the caller's account (the platform resolves it). */
export function aceEventFilter(domain: AceDomain, accountId = '~'): string {
  return `/ai/ringsense/v1/public/accounts/${accountId}/domains/${domain}/insights`;
}

const ACE_EVENT = /^\/ai\/ringsense\/v1\/public\/accounts\/([^/?]+)\/domains\/([^/?]+)\/insights$/;

/** `{accountId, domain}` of an ACE event or filter URI (domain as written, known or not), else null. */
export function parseAceEvent(event: string): { accountId: string; domain: string } | null {
  const match = ACE_EVENT.exec(event);
  return match ? { accountId: match[1]!, domain: match[2]! } : null;
}

/** The REST read paths of §12.1 (`accountId` usually `~`). */
export function aceRecordInsightsPath(domain: string, sourceRecordId: string, accountId = '~'): string {
  return `/ai/ringsense/v1/public/accounts/${accountId}/domains/${domain}/records/${encodeURIComponent(sourceRecordId)}/insights`;
}
export function aceSessionInsightsPath(domain: string, sourceSessionId: string, accountId = '~'): string {
  return `/ai/ringsense/v1/public/accounts/${accountId}/domains/${domain}/sessions/${encodeURIComponent(sourceSessionId)}/insights`;
}

/** The insight types the spec's `insightTypes` enum names; bodies may carry others (kept as they come). */
export const ACE_INSIGHT_TYPES = [
  'Transcript',
  'Summary',
  'Highlights',
  'NextSteps',
  'BulletedSummary',
  'AIScore',
  'Sentiment',
  'CallNotes',
] as const;

/** One item of an insight array. Every key is kept; `value` is always a string when present. */
export interface AceInsightUnit {
  speakerId?: string;
  text?: string;
  value?: string;
  start?: number;
  end?: number;
  section?: string;
  [key: string]: unknown;
}

/** Insight arrays by type; `Highlights` also holds what arrived as `HighLights`; unknown types kept. */
export interface AceInsights {
  Transcript?: AceInsightUnit[];
  Summary?: AceInsightUnit[];
  Highlights?: AceInsightUnit[];
  NextSteps?: AceInsightUnit[];
  BulletedSummary?: AceInsightUnit[];
  AIScore?: AceInsightUnit[];
  Sentiment?: AceInsightUnit[];
  CallNotes?: AceInsightUnit[];
  [type: string]: AceInsightUnit[] | undefined;
}

export interface AceSpeaker {
  speakerId: string;
  name: string | null;
  accountId: string | null;
  extensionId: string | null;
  phoneNumber?: string | null;
  [key: string]: unknown;
}

/** The `RecordingInsights` object (REST) or an event's `body`; keys not listed here are kept as they came. */
export interface AceRecordingInsights {
  /** Events only (`Create` in the rcx sample). */
  eventType?: string;
  title?: string;
  rsRecordUri?: string;
  /** As sent: one of `ACE_DOMAINS`, or a domain this code does not know yet. */
  domain: string;
  sourceRecordId: string;
  sourceSessionId?: string;
  callDirection?: string;
  ownerExtensionId?: string;
  recordingDurationMs?: number;
  recordingStartTime?: string;
  creationTime?: string;
  lastModifiedTime?: string;
  speakerInfo: AceSpeaker[];
  insights: AceInsights;
  [key: string]: unknown;
}

/** The push-notification envelope common to every event (§10). */
export interface NotificationEnvelope<B = unknown> {
  uuid: string;
  event: string;
  timestamp: string;
  subscriptionId: string;
  ownerId: string;
  body: B;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string from a string or a number (ids and scores arrive as either); otherwise undefined. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function invalid(message: string): JobhookError {
  return new JobhookError('JH_ERR_INVALID_ARGUMENT', `ACE insights: ${message}`);
}

/**
 * A copy of `value` with the listed keys coerced (to string, or to a finite number); a listed key whose
 * value cannot be coerced is left out, every other key is kept as it came.
 */
function coerce(
  value: Record<string, unknown>,
  stringKeys: readonly string[],
  numberKeys: readonly string[],
): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  for (const [key, raw] of Object.entries(value)) {
    if (stringKeys.includes(key)) {
      const v = text(raw);
      if (v !== undefined) entries.push([key, v]);
    } else if (numberKeys.includes(key)) {
      const n = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof n === 'number' && Number.isFinite(n)) entries.push([key, n]);
    } else entries.push([key, raw]);
  }
  return Object.fromEntries(entries);
}

/** JSON text of a value, or a placeholder for one nested too deep to print (its parse succeeded; printing recurses). */
function printable(value: unknown): string {
  try {
    return JSON.stringify(value); // parsed JSON: always has a text
  } catch {
    return '[nested too deep to show]';
  }
}

function parseUnit(value: unknown): AceInsightUnit {
  if (!isRecord(value)) return { value: text(value) ?? printable(value) };
  return coerce(value, ['value', 'speakerId', 'text', 'section'], ['start', 'end']);
}

/** Insight arrays by type: `HighLights` merged into `Highlights`; a lone object becomes a one-item array. */
export function parseAceInsightMap(value: unknown): AceInsights {
  const insights: AceInsights = {};
  if (!isRecord(value)) return insights;
  for (const [rawKey, raw] of Object.entries(value)) {
    const key = rawKey === 'HighLights' ? 'Highlights' : rawKey;
    if (raw === null || raw === undefined) continue;
    const units = (Array.isArray(raw) ? raw : [raw]).map(parseUnit);
    insights[key] = [...(insights[key] ?? []), ...units];
  }
  return insights;
}

function parseSpeaker(value: unknown): AceSpeaker | null {
  if (!isRecord(value)) return null;
  const speakerId = text(value.speakerId);
  if (speakerId === undefined) return null;
  const nullable = (v: unknown): string | null => text(v) ?? null;
  return {
    ...value,
    speakerId,
    name: nullable(value.name),
    accountId: nullable(value.accountId),
    extensionId: nullable(value.extensionId),
    ...('phoneNumber' in value ? { phoneNumber: nullable(value.phoneNumber) } : {}),
  };
}

/**
 * Reads an insights body (event `body` or REST `RecordingInsights`). Only `domain` and `sourceRecordId`
 * are required, since records are keyed by them; everything else is optional and kept.
 * Throws JH_ERR_INVALID_ARGUMENT when the value is no object or lacks the key.
 */
export function parseAceInsights(value: unknown): AceRecordingInsights {
  if (!isRecord(value)) throw invalid('the body is not a JSON object');
  const domain = text(value.domain);
  const sourceRecordId = text(value.sourceRecordId);
  if (!domain) throw invalid('`domain` is missing');
  if (!sourceRecordId) throw invalid('`sourceRecordId` is missing');
  const fields = coerce(
    value,
    [
      'eventType',
      'title',
      'rsRecordUri',
      'sourceSessionId',
      'callDirection',
      'ownerExtensionId',
      'recordingStartTime',
      'creationTime',
      'lastModifiedTime',
    ],
    ['recordingDurationMs'],
  );
  const out: AceRecordingInsights = {
    ...fields,
    domain,
    sourceRecordId,
    speakerInfo: (Array.isArray(value.speakerInfo) ? value.speakerInfo : [])
      .map(parseSpeaker)
      .filter((s): s is AceSpeaker => s !== null),
    insights: parseAceInsightMap(value.insights),
  };
  return out;
}

/** Reads a notification envelope; the body is left as it came (parse it by its `event`). */
export function parseNotificationEnvelope(value: unknown): NotificationEnvelope {
  if (!isRecord(value)) throw invalid('the notification is not a JSON object');
  const field = (key: string): string => {
    const v = text(value[key]);
    if (v === undefined) throw invalid(`the envelope's \`${key}\` is missing`);
    return v;
  };
  return {
    uuid: field('uuid'),
    event: field('event'),
    timestamp: text(value.timestamp) ?? '',
    subscriptionId: field('subscriptionId'),
    ownerId: text(value.ownerId) ?? '',
    body: value.body,
  };
}

/**
 * Whether `candidate` should replace `current` for the same `(domain, sourceRecordId)`: a strictly newer
 * `lastModifiedTime` wins (a call with AI Notes sends two events, §11.4); an unreadable time never wins
 * over a readable one.
 */
export function isNewerInsights(candidate: AceRecordingInsights, current: AceRecordingInsights): boolean {
  const at = (r: AceRecordingInsights): number => Date.parse(r.lastModifiedTime ?? '');
  const a = at(candidate);
  const b = at(current);
  if (Number.isNaN(a)) return false;
  return Number.isNaN(b) || a > b;
}

/**
 * The insights of a stored delivery: an event envelope's `body`, or a `RecordingInsights` read back through
 * REST, parsed permissively (a UTF-8 BOM skipped, as the indexer does). JH_ERR_INVALID_ARGUMENT when the
 * bytes are no JSON or hold no insights.
 */
export function insightsOfStoredBody(body: Buffer): AceRecordingInsights {
  const decoded = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded);
  } catch (error) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'ACE insights: the stored body is not JSON', { cause: error });
  }
  const envelope = value as { uuid?: unknown; event?: unknown; body?: unknown } | null;
  const isEnvelope = typeof envelope === 'object' && envelope !== null && 'uuid' in envelope && 'event' in envelope;
  return parseAceInsights(isEnvelope ? envelope.body : value);
}
