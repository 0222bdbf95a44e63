import { JobhookError } from '../errors.js';
import type { AceRecordingInsights } from '../ringcentral/ace.js';
import {
  exportWith,
  formatSrt,
  formatVtt,
  isCaptionTime,
  type Cue,
  type ExportFormat,
  type Exporters,
} from './exports.js';
import { transcriptOf, type InsightItem } from './insights-view.js';

/**
 * Exports of an ACE insight record's transcript: one caption cue per transcript item (ACE already cuts
 * them into sentences with times in seconds), its speaker's name from `speakerInfo`; plain text as
 * speaker turns with `[mm:ss]`; or the parsed record as JSON. Captions share `exports.ts`'s formatting
 * (times, escaping) and its rule for bad times: an item whose start or end is not in [0, 100 h) is left
 * out, not clamped, and an end before its start is read as the start.
 */

const label = (item: InsightItem): string | null =>
  item.speaker ?? (item.speakerId === null ? null : `Speaker ${item.speakerId}`);

/** Cues in time order; throws JH_ERR_INVALID_ARGUMENT when no item has usable times. */
export function insightsCues(insights: AceRecordingInsights): Cue[] {
  const cues: Cue[] = [];
  for (const item of transcriptOf(insights)) {
    if (!isCaptionTime(item.start) || !isCaptionTime(item.end) || item.text.trim() === '') continue;
    const end = Math.max(item.end, item.start + 0.01);
    cues.push({ start: item.start, end, speakerId: item.speakerId, speaker: label(item), text: item.text });
  }
  if (cues.length === 0) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'this insight record has no timed transcript to caption');
  }
  return cues;
}

/** `[mm:ss]`, or `[h:mm:ss]` from an hour on (calls run that long). */
export function clockStamp(seconds: number): string {
  const total = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return h > 0 ? `[${h}:${pad(m)}:${pad(s)}]` : `[${pad(m)}:${pad(s)}]`;
}

/**
 * Speaker turns, one paragraph each: consecutive items of one speaker joined, stamped with the first
 * item's start (`[00:05] Ben Ortiz: …`). Throws JH_ERR_INVALID_ARGUMENT when there is no transcript text.
 */
export function insightsText(insights: AceRecordingInsights): string {
  const turns: { stamp: string; who: string | null; speakerId: string | null; texts: string[] }[] = [];
  for (const item of transcriptOf(insights)) {
    const text = item.text.replace(/\s+/g, ' ').trim();
    if (text === '') continue;
    const last = turns.at(-1);
    if (last && last.speakerId === item.speakerId) last.texts.push(text);
    else {
      const stamp = isCaptionTime(item.start) ? `${clockStamp(item.start)} ` : '';
      turns.push({ stamp, who: label(item), speakerId: item.speakerId, texts: [text] });
    }
  }
  if (turns.length === 0) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'this insight record has no transcript to export as text');
  }
  return turns.map((t) => `${t.stamp}${t.who === null ? '' : `${t.who}: `}${t.texts.join(' ')}`).join('\n\n') + '\n';
}

const INSIGHTS_EXPORTERS: Exporters<AceRecordingInsights> = {
  json: (insights) => JSON.stringify(insights, null, 2) + '\n',
  txt: insightsText,
  srt: (insights) => formatSrt(insightsCues(insights)),
  vtt: (insights) => formatVtt(insightsCues(insights)),
};

/** The export of a parsed insight record as `format`, or JH_ERR_INVALID_ARGUMENT saying why not. */
export function exportInsights(
  insights: AceRecordingInsights,
  format: ExportFormat,
): { body: string; contentType: string } {
  return exportWith(
    INSIGHTS_EXPORTERS,
    insights,
    format,
    `jobhook insights ${insights.domain} ${insights.sourceRecordId} --json prints it`,
  );
}

/** The formats `exportInsights` can build for this record, so the inspector offers no link that answers 422. */
export function insightsExportFormats(insights: AceRecordingInsights): ExportFormat[] {
  const transcript = transcriptOf(insights).filter((item) => item.text.trim() !== '');
  const formats: ExportFormat[] = ['json'];
  if (transcript.length > 0) formats.push('txt');
  if (transcript.some((item) => isCaptionTime(item.start) && isCaptionTime(item.end))) formats.push('srt', 'vtt');
  return formats;
}

/** A file name for an export: the record's key with anything unsafe in a header or a path replaced. */
export function insightsFileName(insights: { domain: string; sourceRecordId: string }, format: ExportFormat): string {
  return `${insights.domain}-${insights.sourceRecordId}`.replace(/[^\w.-]/g, '_').slice(0, 200) + `.${format}`;
}
