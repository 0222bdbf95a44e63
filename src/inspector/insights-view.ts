import {
  ACE_INSIGHT_TYPES,
  type AceInsightUnit,
  type AceRecordingInsights,
  type AceSpeaker,
  insightsOfStoredBody,
} from '../ringcentral/ace.js';
import { isCaptionTime } from './exports.js';

/**
 * What the inspector shows of an ACE insight record (reference §11.3): the transcript by speaker, the
 * insight types it knows by name, and every other type as it came. Pure: parsed insights in, view out.
 * Transcript and highlight times are seconds; Summary's `start`/`end` look like ordinal indexes in the
 * samples, so summaries are shown without times.
 */
export interface InsightItem {
  text: string;
  /** Seconds; null when absent or not a usable time. */
  start: number | null;
  end: number | null;
  speakerId: string | null;
  /** The speaker's name from `speakerInfo`, else null. */
  speaker: string | null;
}

export interface InsightsView {
  domain: string;
  sourceRecordId: string;
  sourceSessionId: string | null;
  title: string | null;
  callDirection: string | null;
  recordingStartTime: string | null;
  recordingDurationMs: number | null;
  lastModifiedTime: string | null;
  rsRecordUri: string | null;
  speakers: AceSpeaker[];
  transcript: InsightItem[];
  summary: InsightItem[];
  highlights: InsightItem[];
  nextSteps: InsightItem[];
  bulletedSummary: (InsightItem & { section: string | null })[];
  /** AI score as sent (a string, e.g. `"7"`); null when there is none. */
  aiScore: string | null;
  sentiment: string | null;
  /** CallNotes (pbx with AI Notes): one entry per note, i.e. per `\n`-separated line of the values. */
  callNotes: string[];
  /** Insight types this view does not know (e.g. `QnA`), with their units as parsed. */
  other: { type: string; units: AceInsightUnit[] }[];
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(ACE_INSIGHT_TYPES);

/** A time in seconds as the captions take it (in [0, 100 h)); anything else cannot be right and shows as none. */
const seconds = (value: unknown): number | null => (isCaptionTime(value) ? value : null);

/** A unit's words: `text` (Transcript) or `value` (every other type). */
const unitText = (unit: AceInsightUnit): string => unit.text ?? unit.value ?? '';

/** Speaker names by id; a speaker without a name is left out (shown by id). */
export function speakerNames(insights: AceRecordingInsights): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of insights.speakerInfo) if (s.name) names.set(s.speakerId, s.name);
  return names;
}

function items(units: AceInsightUnit[] | undefined, names: Map<string, string>): InsightItem[] {
  return (units ?? []).map((unit) => {
    const speakerId = unit.speakerId ?? null;
    return {
      text: unitText(unit),
      start: seconds(unit.start),
      end: seconds(unit.end),
      speakerId,
      speaker: speakerId === null ? null : (names.get(speakerId) ?? null),
    };
  });
}

const first = (units: AceInsightUnit[] | undefined): string | null => {
  const unit = units?.find((u) => unitText(u) !== '');
  return unit ? unitText(unit) : null;
};

/** Transcript items in time order (stable: items without a start keep their place after timed ones before them). */
export function transcriptOf(insights: AceRecordingInsights): InsightItem[] {
  const lines = items(insights.insights.Transcript, speakerNames(insights));
  let last = 0;
  const keyed = lines.map((line, index) => {
    if (line.start !== null) last = line.start;
    return { line, at: last, index };
  });
  keyed.sort((a, b) => a.at - b.at || a.index - b.index);
  return keyed.map((k) => k.line);
}

export function toInsightsView(insights: AceRecordingInsights): InsightsView {
  const names = speakerNames(insights);
  const map = insights.insights;
  return {
    domain: insights.domain,
    sourceRecordId: insights.sourceRecordId,
    sourceSessionId: insights.sourceSessionId ?? null,
    title: insights.title ?? null,
    callDirection: insights.callDirection ?? null,
    recordingStartTime: insights.recordingStartTime ?? null,
    recordingDurationMs: insights.recordingDurationMs ?? null,
    lastModifiedTime: insights.lastModifiedTime ?? null,
    rsRecordUri: insights.rsRecordUri ?? null,
    speakers: insights.speakerInfo,
    transcript: transcriptOf(insights),
    // Summary times are indexes (see above): dropped, so no one reads them as seconds.
    summary: items(map.Summary, names).map((s) => ({ ...s, start: null, end: null })),
    highlights: items(map.Highlights, names),
    nextSteps: items(map.NextSteps, names),
    bulletedSummary: (map.BulletedSummary ?? []).map((unit) => ({
      ...items([unit], names)[0]!,
      section: unit.section ?? null,
    })),
    aiScore: first(map.AIScore),
    sentiment: first(map.Sentiment),
    callNotes: (map.CallNotes ?? [])
      .flatMap((unit) => unitText(unit).split('\n'))
      .map((note) => note.trim())
      .filter((note) => note !== ''),
    other: Object.entries(map)
      .filter(([type]) => !KNOWN_TYPES.has(type))
      .map(([type, units]) => ({ type, units: units ?? [] })),
  };
}

/** See `insightsOfStoredBody` (src/ringcentral/ace.ts). */
export const insightsOfDeliveryBody = insightsOfStoredBody;
