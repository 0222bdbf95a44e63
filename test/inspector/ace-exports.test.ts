import { describe, expect, it } from 'vitest';
import { parseAceInsights } from '../../src/ringcentral/ace.js';
import {
  clockStamp,
  exportInsights,
  insightsExportFormats,
  insightsFileName,
} from '../../src/inspector/insights-exports.js';
import { aceFixture, hourLongInsights } from './ace-fixtures.js';

/**
 * Exports of ACE transcripts (issue #12): text with speaker turns and [mm:ss], SRT and WebVTT with one cue per
 * transcript item and the speaker's name, JSON; the caption times and bad-time rules of exports.ts; and an
 * hour-long call (~10 000 items, ~1.5 MB) exported quickly and well-formed.
 */
const pbx = () => parseAceInsights(aceFixture('pbx-record.json'));
const hostile = () => parseAceInsights((aceFixture('pbx-hostile-event.json') as { body: unknown }).body);

describe('ACE transcript exports', () => {
  it('text: speaker turns with [mm:ss], consecutive items of one speaker joined', () => {
    const record = parseAceInsights({
      domain: 'pbx',
      sourceRecordId: '1',
      speakerInfo: [{ speakerId: 'a', name: 'Ada' }],
      insights: {
        Transcript: [
          { speakerId: 'a', text: 'Hello.', start: 1.5, end: 2 },
          { speakerId: 'a', text: 'Still me.', start: 2.5, end: 3 },
          { speakerId: 'b', text: 'Hi  there,\nAda.', start: 65.99, end: 70 },
          { speakerId: 'a', text: 'An hour in.', start: 3725.2, end: 3726 },
        ],
      },
    });
    expect(exportInsights(record, 'txt')).toEqual({
      body: '[00:01] Ada: Hello. Still me.\n\n[01:05] Speaker b: Hi there, Ada.\n\n[1:02:05] Ada: An hour in.\n',
      contentType: 'text/plain; charset=utf-8',
    });
    expect(exportInsights(pbx(), 'txt').body).toBe(
      '[00:01] Ada Quinn: Morning Ben, thanks for picking up.\n\n' +
        '[00:05] Ben Ortiz: Sure, is this about the delivery schedule?\n',
    );
  });

  it('SRT and WebVTT: one cue per item, the speaker named, times as the speech exports write them', () => {
    expect(exportInsights(pbx(), 'srt')).toEqual({
      body:
        '1\n00:00:01,500 --> 00:00:04,100\nAda Quinn: Morning Ben, thanks for picking up.\n\n' +
        '2\n00:00:05,000 --> 00:00:09,800\nBen Ortiz: Sure, is this about the delivery schedule?\n',
      contentType: 'application/x-subrip; charset=utf-8',
    });
    expect(exportInsights(pbx(), 'vtt').body).toBe(
      'WEBVTT\n\n' +
        '00:00:01.500 --> 00:00:04.100\n<v Ada Quinn>Morning Ben, thanks for picking up.\n\n' +
        '00:00:05.000 --> 00:00:09.800\n<v Ben Ortiz>Sure, is this about the delivery schedule?\n',
    );
  });

  it('keeps markup inert and each cue on one line: escaped in VTT, no blank line, no stray -->', () => {
    const vtt = exportInsights(hostile(), 'vtt').body;
    expect(vtt).toBe(
      'WEBVTT\n\n' +
        '00:00:00.500 --> 00:00:03.250\n<v Eve &lt;b onmouseover=alert(3)&gt;Mallory&lt;/b&gt;>' +
        'Hello &lt;script&gt;window.__pwned = true&lt;/script&gt; &amp; welcome -&gt; to the call.\n\n' +
        '00:00:03.900 --> 00:00:07.000\n<v Speaker p-c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6-2>' +
        'Thanks. Two paragraphs &lt;i&gt;here&lt;/i&gt;.\n',
    );
    const srt = exportInsights(hostile(), 'srt').body;
    expect(srt.split('\n\n')).toHaveLength(2);
    expect(srt.match(/-->/g)).toHaveLength(2);
  });

  it('skips items whose times cannot be right, reads an end before its start as the start, sorts by start', () => {
    const record = parseAceInsights({
      domain: 'pbx',
      sourceRecordId: '1',
      insights: {
        Transcript: [
          { text: 'late', start: 20, end: 21 },
          { text: 'negative', start: -1, end: 2 },
          { text: 'huge', start: 1e308, end: 1e308 },
          { text: 'string time', start: 'soon', end: 3 },
          { text: 'backwards', start: 10, end: 4 },
          { text: '   ', start: 11, end: 12 },
          { text: 'early', start: 0, end: 0.5 },
        ],
      },
    });
    const cues = exportInsights(record, 'srt').body.split('\n\n');
    expect(cues).toEqual([
      '1\n00:00:00,000 --> 00:00:00,500\nearly',
      '2\n00:00:10,000 --> 00:00:10,010\nbackwards',
      '3\n00:00:20,000 --> 00:00:21,000\nlate\n',
    ]);
    // Without speakers the items are one turn, stamped with the first item's start.
    expect(exportInsights(record, 'txt').body).toBe('[00:00] early backwards late negative huge string time\n');
  });

  it('offers only what it can build; the others are JH_ERR_INVALID_ARGUMENT saying why', () => {
    expect(insightsExportFormats(pbx())).toEqual(['json', 'txt', 'srt', 'vtt']);
    const untimed = parseAceInsights({ domain: 'pbx', sourceRecordId: '1', insights: { Transcript: [{ text: 'x' }] } });
    expect(insightsExportFormats(untimed)).toEqual(['json', 'txt']);
    expect(() => exportInsights(untimed, 'srt')).toThrow(
      expect.objectContaining({
        code: 'JH_ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/no timed transcript/),
      }),
    );
    const none = parseAceInsights({ domain: 'pbx', sourceRecordId: '1', insights: { AIScore: [{ value: '3' }] } });
    expect(insightsExportFormats(none)).toEqual(['json']);
    expect(() => exportInsights(none, 'txt')).toThrow(expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }));
    expect(JSON.parse(exportInsights(none, 'json').body)).toMatchObject({ insights: { AIScore: [{ value: '3' }] } });
  });

  it('JSON nested too deeply is refused with the command that prints the record, not a stack trace', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const record = { ...pbx(), extra: deep };
    expect(() => exportInsights(record, 'json')).toThrow(
      expect.objectContaining({
        code: 'JH_ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/nested too deeply.*jobhook insights pbx 3141592653589 --json/),
      }),
    );
  });

  it('clock stamps and file names', () => {
    expect([0, 59.99, 60, 3599.5, 3600, 36_000].map(clockStamp)).toEqual([
      '[00:00]',
      '[00:59]',
      '[01:00]',
      '[59:59]',
      '[1:00:00]',
      '[10:00:00]',
    ]);
    expect(insightsFileName({ domain: 'rcx', sourceRecordId: 'a/b"c\r\nd' }, 'vtt')).toBe('rcx-a_b_c__d.vtt');
  });
});

describe('an hour-long transcript', () => {
  const ITEMS = 10_000;
  const bytes = Buffer.from(JSON.stringify(hourLongInsights(ITEMS)));
  const timeMs = (fn: () => void): number => {
    const started = performance.now();
    fn();
    return performance.now() - started;
  };
  const srtTime = (t: string): number => {
    const [h, m, rest] = t.split(':');
    const [s, ms] = rest!.split(',');
    return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
  };

  it('is the size of a real one', () => {
    expect(bytes.length).toBeGreaterThan(1_300_000);
    expect(bytes.length).toBeLessThan(2_000_000);
  });

  it('exports SRT with every cue numbered in order, times monotonic, no NaN, quickly', () => {
    let srt = '';
    const ms = timeMs(() => (srt = exportInsights(parseAceInsights(JSON.parse(bytes.toString())), 'srt').body));
    expect(ms).toBeLessThan(1500);
    expect(srt).not.toMatch(/NaN|Infinity|undefined|null/);
    const cues = srt.trimEnd().split('\n\n');
    expect(cues).toHaveLength(ITEMS);
    let previous = -1;
    cues.forEach((cue, i) => {
      const lines = cue.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(String(i + 1));
      const times = /^(\d{2}:\d{2}:\d{2},\d{3}) --> (\d{2}:\d{2}:\d{2},\d{3})$/.exec(lines[1]!);
      expect(times, lines[1]).not.toBeNull();
      const [start, end] = [srtTime(times![1]!), srtTime(times![2]!)];
      expect(start).toBeGreaterThanOrEqual(previous);
      expect(end).toBeGreaterThan(start);
      previous = start;
      expect(lines[2]).toMatch(/^(Ada Quinn|Ben Ortiz): Item \d+: about the /);
    });
    expect(previous).toBeGreaterThan(3590);
  });

  it('exports WebVTT and text as quickly, one voice per cue and one paragraph per turn', () => {
    const record = parseAceInsights(JSON.parse(bytes.toString()));
    let vtt = '';
    let txt = '';
    expect(timeMs(() => (vtt = exportInsights(record, 'vtt').body))).toBeLessThan(1500);
    expect(timeMs(() => (txt = exportInsights(record, 'txt').body))).toBeLessThan(1500);
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
    expect(vtt.match(/^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$/gm)).toHaveLength(ITEMS);
    expect(vtt.match(/^<v (Ada Quinn|Ben Ortiz)>/gm)).toHaveLength(ITEMS);
    expect(vtt).not.toMatch(/NaN/);
    // Speakers alternate every 3 items: ceil(10 000 / 3) turns, the last an hour in.
    const turns = txt.trimEnd().split('\n\n');
    expect(turns).toHaveLength(Math.ceil(ITEMS / 3));
    expect(turns.at(-1)).toMatch(/^\[0?:?59:\d{2}\] (Ada Quinn|Ben Ortiz): Item 9999: /);
  });
});
