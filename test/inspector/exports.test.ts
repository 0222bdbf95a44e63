import SrtParser from 'srt-parser-2';
import { describe, expect, it } from 'vitest';
// webvtt-parser ships no types: a validating parser of the W3C WebVTT format.
// @ts-expect-error -- untyped CommonJS module
import { WebVTTParser } from 'webvtt-parser';
import { computeOutcome } from '../../src/emulator/job-results.js';
import {
  EXPORT_FORMATS,
  buildCues,
  exportResult,
  exportableFormats,
  toSrt,
  toText,
  toVtt,
} from '../../src/inspector/exports.js';
import { ASYNC_APIS, type AsyncApiName } from '../../src/ringcentral/apis.js';

const speech = computeOutcome(
  'speechToText',
  { contentUri: 'https://example.com/meeting.wav', encoding: 'Wav', enableSpeakerDiarization: true },
  { seed: 'exports', isEnrolledComplete: () => true, durationS: 120 },
).response as { utterances: { speakerId: string; text: string }[]; words: { end: number }[] };

interface VttResult {
  cues: { startTime: number; endTime: number; text: string; tree: { children: { type: string; value?: string }[] } }[];
  errors: { message: string }[];
}
const parseVtt = (text: string): VttResult =>
  new (WebVTTParser as new () => { parse(t: string, mode: string): VttResult })().parse(text, 'metadata');

describe('exports', () => {
  it('builds SRT that a parser reads back, with cues of at most 42 characters and 7 seconds, in order', () => {
    const srt = toSrt(speech);
    const cues = new SrtParser().fromSrt(srt);
    expect(cues.length).toBe(buildCues(speech).length);
    expect(cues.length).toBeGreaterThan(10);
    let previousEnd = 0;
    cues.forEach((cue, i) => {
      expect(cue.id).toBe(String(i + 1));
      expect(cue.text.length).toBeLessThanOrEqual(42);
      expect(cue.endSeconds - cue.startSeconds).toBeLessThanOrEqual(7);
      expect(cue.startSeconds).toBeGreaterThanOrEqual(previousEnd);
      previousEnd = cue.endSeconds;
    });
    // The captions spell the punctuated transcript, word for word.
    expect(cues.map((c) => c.text).join(' ')).toBe(speech.utterances.map((u) => u.text).join(' '));
  });

  it('builds WebVTT that a validating parser accepts, with speaker voice tags', () => {
    const vtt = toVtt(speech);
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
    const parsed = parseVtt(vtt);
    expect(parsed.errors).toEqual([]);
    expect(parsed.cues.length).toBe(buildCues(speech).length);
    const voices = new Set(
      parsed.cues.map((c) => c.tree.children[0]).map((n) => (n as { type: string; value?: string }).value),
    );
    expect([...voices].every((v) => /^Speaker \d+$/.test(v ?? ''))).toBe(true);
    expect(voices.size).toBeGreaterThan(1);
  });

  it('escapes markup in captions and writes text with speaker turns', () => {
    const hostile = { words: [{ word: '<script>alert(1)</script>', start: 0, end: 1, speakerId: '0' }] };
    expect(toVtt(hostile)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(parseVtt(toVtt(hostile)).errors).toEqual([]);
    const text = toText(speech);
    expect(text.split('\n\n')[0]).toMatch(/^Speaker \d: \S/);
    expect(toText({ transcript: 'just words' })).toBe('just words\n');
    expect(() => exportResult({ texts: ['x'] }, 'srt')).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }),
    );
    expect(JSON.parse(exportResult(speech, 'json').body)).toEqual(speech);
  });

  it('lists as exportable exactly the formats exportResult builds, for every API result', () => {
    const inputs: Partial<Record<AsyncApiName, Record<string, unknown>>> = {
      speechToText: { contentUri: 'https://example.com/a.wav', encoding: 'Wav' },
      speakerDiarize: { contentUri: 'https://example.com/a.wav', encoding: 'Wav' },
      speakerIdentify: { contentUri: 'https://example.com/a.wav', encoding: 'Wav', speakerIds: ['a'] },
      analyzeInteraction: { contentUri: 'https://example.com/a.wav', encoding: 'Wav', insights: ['All'] },
      punctuate: { texts: ['hello there'] },
      summarize: { summaryType: 'All', utterances: [{ text: 'We ship on Friday.', speakerId: '0' }] },
      recognizeEmotion: { contentUri: 'https://example.com/a.wav', encoding: 'Wav' },
    };
    const ctx = { seed: 'exportable', isEnrolledComplete: () => true, durationS: 30 };
    const results: [string, unknown][] = [
      ...(Object.entries(inputs) as [AsyncApiName, Record<string, unknown>][]).map(
        ([name, input]) => [ASYNC_APIS[name], computeOutcome(name, input, ctx).response] as [string, unknown],
      ),
      ['diarized speech', speech],
      ['failure', { errors: [{ errorCode: 'CAI-101', message: 'bad' }] }],
      ['empty', {}],
    ];
    const offered: Record<string, string[]> = {};
    for (const [name, result] of results) {
      const buildable = EXPORT_FORMATS.filter((format) => {
        try {
          exportResult(result, format);
          return true;
        } catch {
          return false;
        }
      });
      expect(exportableFormats(result), name).toEqual(buildable);
      offered[name.split('/').at(-1)!] = buildable;
    }
    // The new user's complaint: TXT/SRT/VTT links on a punctuate result answered 422.
    expect(offered).toMatchObject({
      punctuate: ['json'],
      summarize: ['json'],
      'recognize-emotion': ['json'],
      'speaker-diarize': ['json'],
      'speech-to-text': ['json', 'txt', 'srt', 'vtt'],
      'analyze-interaction': ['json', 'txt'],
    });
  });
});

describe('exports of results the builders cannot take (tester report)', () => {
  const TIMESTAMP = /^\d{2}:\d{2}:\d{2}[,.]\d{3}$/;

  it('skips words with times of 1e308, negative or NaN, so SRT and VTT stay valid', () => {
    const result = {
      words: [
        { word: 'Hello', start: 0.5, end: 0.9 },
        { word: 'huge', start: 1e308, end: 1e308 },
        { word: 'negative', start: -5, end: -4 },
        { word: 'nan', start: Number.NaN, end: 1 },
        { word: 'text', start: '1', end: '2' },
        { word: 'backwards', start: 2, end: 1 },
        { word: 'world', start: 3, end: 3.4 },
      ],
    };
    const srt = toSrt(result);
    // Before the fix: `Infinity:NaN:NaN,NaN --> …`.
    expect(srt).not.toMatch(/NaN|Infinity|-\d/);
    const cues = new SrtParser().fromSrt(srt);
    expect(cues.map((c) => c.text).join(' ')).toBe('Hello backwards world');
    for (const line of srt.split('\n').filter((l) => l.includes('-->'))) {
      for (const time of line.split(' --> ')) expect(time, line).toMatch(TIMESTAMP);
    }
    const vtt = parseVtt(toVtt(result));
    expect(vtt.errors).toEqual([]);
    expect(vtt.cues.map((c) => c.text).join(' ')).toBe('Hello backwards world');
    // Nothing left to caption: SRT/VTT are not offered, and refused with the usual error.
    const bad = { words: [{ word: 'x', start: 1e308, end: 1e308 }] };
    expect(exportableFormats(bad)).toEqual(['json']);
    expect(() => toSrt(bad)).toThrow(expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }));
  });

  it('refuses a result nested 200 000 levels deep with JH_ERR_INVALID_ARGUMENT, not a RangeError', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    for (const format of EXPORT_FORMATS) {
      let caught: unknown;
      try {
        exportResult(deep, format);
      } catch (error) {
        caught = error;
      }
      if (format === 'json') {
        expect(caught, format).toMatchObject({
          code: 'JH_ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(/^the result cannot be exported as json: it is nested too deeply; /),
        });
      } else {
        expect(caught, format).toMatchObject({ code: 'JH_ERR_INVALID_ARGUMENT' });
      }
    }
  });
});
