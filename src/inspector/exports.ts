import { JobhookError } from '../errors.js';

/**
 * Exports of a speech result: captions (SRT, WebVTT) built from word timings, and plain text with speaker
 * turns. Pure: result in, text out. Caption cues keep one speaker, at most `maxChars` characters and
 * `maxSeconds` seconds; words take their punctuated spelling from the utterance text when it lines up.
 */
export type ExportFormat = 'json' | 'txt' | 'srt' | 'vtt';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'txt', 'srt', 'vtt'];

interface Word {
  word: string;
  start: number;
  end: number;
  speakerId?: string;
}

interface SpeechLike {
  transcript?: string;
  words?: Word[];
  utterances?: { speakerId?: string; start: number; end: number; text?: string; wordTimings?: Word[] }[];
  utteranceInsights?: { speakerId?: string; start: number; end: number; text: string }[];
}

export interface Cue {
  start: number;
  end: number;
  speakerId: string | null;
  /** A speaker's display name (ACE's `speakerInfo`): SRT prefixes it, WebVTT names the voice with it. */
  speaker?: string | null;
  text: string;
}

const asSpeech = (result: unknown): SpeechLike => (typeof result === 'object' && result !== null ? result : {});

/**
 * Caption times stay below 100 h, so `HH` keeps two digits; longer audio is not something the API takes.
 * A time of 1e308, a negative one or NaN printed `Infinity:NaN:NaN,NaN`.
 */
const MAX_CAPTION_SECONDS = 100 * 3600;

export const isCaptionTime = (t: unknown): t is number =>
  typeof t === 'number' && Number.isFinite(t) && t >= 0 && t < MAX_CAPTION_SECONDS;

/**
 * Words that can be captioned: those with a start and end in [0, 100 h) (others are skipped, not clamped,
 * since no time for them can be right), an end before the start read as the start.
 */
function displayWords(result: SpeechLike): Word[] {
  return timedWords(result)
    .filter((w) => isCaptionTime(w.start) && isCaptionTime(w.end))
    .map((w) => (w.end < w.start ? { ...w, end: w.start } : w));
}

/** Words with display spelling: from utterance text tokens when they match the word timings one to one. */
function timedWords(result: SpeechLike): Word[] {
  if (result.utterances?.every((u) => u.wordTimings && u.text)) {
    return result.utterances.flatMap((u) => {
      const tokens = u.text!.split(/\s+/).filter(Boolean);
      const timings = u.wordTimings!;
      return timings.map((t, i) => ({
        word: tokens.length === timings.length ? tokens[i]! : t.word,
        start: t.start,
        end: t.end,
        speakerId: t.speakerId ?? u.speakerId,
      }));
    });
  }
  return result.words ?? [];
}

/** True when the result has word timings: what SRT and WebVTT captions are built from. */
function canCaption(result: unknown): boolean {
  return displayWords(asSpeech(result)).length > 0;
}

/** Speaker turns with text (speech-to-text with diarization, analyze-interaction), or null. */
function textTurns(speech: SpeechLike): { speakerId?: string; text: string }[] | null {
  const turns = speech.utterances ?? speech.utteranceInsights;
  return turns?.length && turns.every((u) => typeof u.text === 'string')
    ? (turns as { speakerId?: string; text: string }[])
    : null;
}

/** True when the result has a transcript or speaker turns with text: what TXT is built from. */
function canText(result: unknown): boolean {
  const speech = asSpeech(result);
  return textTurns(speech) !== null || typeof speech.transcript === 'string';
}

export function buildCues(result: unknown, { maxChars = 42, maxSeconds = 7 } = {}): Cue[] {
  const words = displayWords(asSpeech(result));
  if (words.length === 0)
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'this result has no word timings to caption');
  const cues: Cue[] = [];
  let cue: Cue | null = null;
  for (const w of words) {
    const speakerId = w.speakerId ?? null;
    const fits =
      cue !== null &&
      cue.speakerId === speakerId &&
      cue.text.length + 1 + w.word.length <= maxChars &&
      w.end - cue.start <= maxSeconds;
    if (fits) {
      cue!.text += ` ${w.word}`;
      cue!.end = w.end;
    } else {
      if (cue) cues.push(cue);
      cue = { start: w.start, end: Math.max(w.end, w.start + 0.01), speakerId, text: w.word };
    }
  }
  if (cue) cues.push(cue);
  return cues;
}

function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

/**
 * One line of cue text: a blank line would end the cue early, and `-->` on a line reads as a timing line to
 * lenient parsers. Word tokens never hold either; ACE transcript items can.
 */
const cueLine = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/-->/g, '->');

/** SRT from cues (times in [0, 100 h), as `buildCues` and `aceCues` make them); a named speaker prefixes its text. */
export function formatSrt(cues: readonly Cue[]): string {
  return cues
    .map((c, i) => {
      const text = cueLine(c.speaker ? `${c.speaker}: ${c.text}` : c.text);
      return `${i + 1}\n${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}\n${text}\n`;
    })
    .join('\n');
}

const escapeVtt = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** WebVTT from cues; the voice is the speaker's name, else `Speaker <id>`. */
export function formatVtt(cues: readonly Cue[]): string {
  const body = cues.map((c) => {
    const name = c.speaker ?? (c.speakerId === null ? null : `Speaker ${c.speakerId}`);
    const voice = name === null ? '' : `<v ${escapeVtt(cueLine(name))}>`;
    return `${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${voice}${escapeVtt(cueLine(c.text))}\n`;
  });
  return `WEBVTT\n\n${body.join('\n')}`;
}

export const toSrt = (result: unknown): string => formatSrt(buildCues(result));
export const toVtt = (result: unknown): string => formatVtt(buildCues(result));

/** Plain text: one paragraph per speaker turn (`Speaker 0: …`), or the transcript without speakers. */
export function toText(result: unknown): string {
  const speech = asSpeech(result);
  const turns = textTurns(speech);
  if (turns) {
    const merged: { speakerId: string | undefined; text: string }[] = [];
    for (const u of turns) {
      const last = merged.at(-1);
      if (last && last.speakerId === u.speakerId) last.text += ` ${u.text}`;
      else merged.push({ speakerId: u.speakerId, text: u.text });
    }
    return (
      merged.map((t) => (t.speakerId === undefined ? t.text : `Speaker ${t.speakerId}: ${t.text}`)).join('\n\n') + '\n'
    );
  }
  if (typeof speech.transcript === 'string') return `${speech.transcript}\n`;
  throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'this result has no transcript to export as text');
}

/** The text of each format for one kind of result. */
export type Exporters<T> = Record<ExportFormat, (value: T) => string>;

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
};

/**
 * The export of `value` as `format`, or JH_ERR_INVALID_ARGUMENT saying why not: also for a value the
 * builders cannot take, e.g. JSON nested 200 000 levels deep, whose RangeError (stack overflow) ended
 * `jobhook export` with exit 70 and a stack trace. `kept` says where the stored original can be read.
 */
export function exportWith<T>(
  exporters: Exporters<T>,
  value: T,
  format: ExportFormat,
  kept = 'jobhook show <id> --json prints it',
): { body: string; contentType: string } {
  try {
    return { body: exporters[format](value), contentType: CONTENT_TYPES[format] };
  } catch (error) {
    if (error instanceof JobhookError) throw error;
    const message = (error as Error).message;
    const reason = /call stack/i.test(message) ? 'it is nested too deeply' : message;
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `the result cannot be exported as ${format}: ${reason}; the delivery is kept as received (${kept})`,
      { cause: error },
    );
  }
}

const RESULT_EXPORTERS: Exporters<unknown> = {
  json: (result) => JSON.stringify(result, null, 2) + '\n',
  txt: toText,
  srt: toSrt,
  vtt: toVtt,
};

/** The export of an AI API result as `format` (see `exportWith`). */
export const exportResult = (result: unknown, format: ExportFormat): { body: string; contentType: string } =>
  exportWith(RESULT_EXPORTERS, result, format);

/**
 * The formats `exportResult` can build for this result, decided by the same checks it makes (a punctuate,
 * summarize, diarize or emotion result has no transcript and no word timings: JSON only). The inspector
 * offers only these, so no download link answers 422.
 */
export function exportableFormats(result: unknown): ExportFormat[] {
  const formats: ExportFormat[] = ['json'];
  if (canText(result)) formats.push('txt');
  if (canCaption(result)) formats.push('srt', 'vtt');
  return formats;
}
