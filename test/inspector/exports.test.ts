import SrtParser from 'srt-parser-2';
import { describe, expect, it } from 'vitest';
// webvtt-parser ships no types: a validating parser of the W3C WebVTT format.
// @ts-expect-error -- untyped CommonJS module
import { WebVTTParser } from 'webvtt-parser';
import { computeOutcome } from '../../src/emulator/job-results.js';
import { buildCues, exportResult, toSrt, toText, toVtt } from '../../src/inspector/exports.js';

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
});
