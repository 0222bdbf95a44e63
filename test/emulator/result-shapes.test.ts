import { describe, expect, it } from 'vitest';
import { computeOutcome } from '../../src/emulator/job-results.js';
import { buildConversation, wordsOf } from '../../src/emulator/results/conversation.js';
import { ASYNC_APIS, type AsyncApiName } from '../../src/ringcentral/apis.js';
import { validateJobInput } from '../../src/ringcentral/validate-input.js';
import { loadShape, shapeMismatches } from '../helpers/shape.js';

const audio = { contentUri: 'https://example.com/calls/42.wav', encoding: 'Wav', languageCode: 'en-US' };
const INPUTS: Record<AsyncApiName, Record<string, unknown>> = {
  speechToText: { ...audio, enableSpeakerDiarization: true },
  speakerDiarize: audio,
  speakerIdentify: { ...audio, speakerIds: ['agent_1', 'caller_2'] },
  analyzeInteraction: { ...audio, insights: ['All'] },
  punctuate: { texts: ['hello there how are you', 'i dont know but its fine'] },
  summarize: {
    summaryType: 'All',
    utterances: [
      { speakerId: '0', start: 0, end: 3, text: 'Our router keeps dropping the connection every evening.' },
      { speakerId: '1', start: 3, end: 6, text: 'Please unplug the splitter and connect the router to the wall.' },
      { speakerId: '0', start: 6, end: 8, text: 'Okay, the router is connected and stable now.' },
    ],
  },
  recognizeEmotion: audio,
};
const ctx = { seed: 'shape-test', isEnrolledComplete: () => true };

function outcome(api: AsyncApiName, input = INPUTS[api]) {
  expect(validateJobInput(api, input)).toBeNull();
  const result = computeOutcome(api, input, ctx);
  expect(result.status).toBe('Success');
  return result.response as Record<string, unknown>;
}

describe('emulator results', () => {
  it.each(Object.keys(ASYNC_APIS) as AsyncApiName[])('%s has the documented shape', (api) => {
    const file = ASYNC_APIS[api].split('/').at(-1)!;
    expect(shapeMismatches(outcome(api), loadShape(file))).toEqual([]);
  });

  it('speech-to-text without diarization has no speaker ids and no utterances', () => {
    const result = outcome('speechToText', { ...audio, enablePunctuation: false });
    expect(shapeMismatches(result, loadShape('speech-to-text'))).toEqual([]);
    expect(result.utterances).toBeUndefined();
    expect((result.words as Record<string, unknown>[]).some((w) => 'speakerId' in w)).toBe(false);
    expect(result.transcript).toBe((result.words as { word: string }[]).map((w) => w.word).join(' '));
  });

  it('is deterministic for an input and seed, and differs across contentUris', () => {
    expect(outcome('speechToText')).toEqual(outcome('speechToText'));
    const other = outcome('speechToText', { ...INPUTS.speechToText, contentUri: 'https://example.com/calls/43.wav' });
    const titles = new Set(
      ['42', '43', '44', '45', '46'].map(
        (n) => buildConversation(`https://example.com/calls/${n}.wav`, 'shape-test').dialogue.title,
      ),
    );
    expect(titles.size).toBeGreaterThan(1);
    // Another recording gives another transcript (other timings even when the same dialogue is drawn).
    expect(other).not.toEqual(outcome('speechToText'));
  });

  it('is internally consistent: ordered word timings inside utterances, text equal to its words, shared speaker ids', () => {
    const result = outcome('speechToText') as {
      words: { word: string; start: number; end: number; confidence: number; speakerId: string }[];
      utterances: {
        speakerId: string;
        start: number;
        end: number;
        text: string;
        wordTimings: { word: string; start: number; end: number }[];
      }[];
      speakerCount: number;
    };
    let previousEnd = 0;
    for (const word of result.words) {
      expect(word.start).toBeGreaterThanOrEqual(previousEnd);
      expect(word.end).toBeGreaterThan(word.start);
      expect(word.confidence).toBeGreaterThanOrEqual(0);
      expect(word.confidence).toBeLessThanOrEqual(1);
      previousEnd = word.end;
    }
    let w = 0;
    for (const u of result.utterances) {
      expect(wordsOf(u.text)).toEqual(u.wordTimings.map((t) => t.word));
      for (const t of u.wordTimings) {
        expect(t.start).toBeGreaterThanOrEqual(u.start);
        expect(t.end).toBeLessThanOrEqual(u.end);
        expect(result.words[w]).toMatchObject({ word: t.word, start: t.start, speakerId: u.speakerId });
        w++;
      }
    }
    expect(w).toBe(result.words.length);
    expect(new Set(result.utterances.map((u) => u.speakerId)).size).toBe(result.speakerCount);

    const insights = outcome('analyzeInteraction') as {
      speakerInsights: { speakerCount: number; insights: { values: { speakerId: string }[] }[] };
      utteranceInsights: { speakerId: string }[];
    };
    const speakers = new Set(insights.utteranceInsights.map((u) => u.speakerId));
    for (const insight of insights.speakerInsights.insights) {
      expect(new Set(insight.values.map((v) => v.speakerId))).toEqual(speakers);
    }
  });

  it('works on the real input text for punctuation and summaries', () => {
    expect(outcome('punctuate')).toEqual({ texts: ['Hello there how are you.', "I don't know, but its fine."] });
    const { summaries } = outcome('summarize') as {
      summaries: { name: string; values: { value: string; start?: number }[] }[];
    };
    expect(summaries.map((s) => s.name)).toEqual(['Extractive', 'AbstractiveShort', 'AbstractiveLong']);
    const inputTexts = (INPUTS.summarize.utterances as { text: string }[]).map((u) => u.text);
    for (const value of summaries[0]!.values) expect(inputTexts).toContain(value.value);
    expect(summaries[1]!.values[0]!.value).toMatch(/router/);
  });

  it('produces an hour-long transcript (about 1.5 MB of JSON with diarization) in large mode', () => {
    const result = computeOutcome(
      'speechToText',
      { ...audio, enableSpeakerDiarization: true },
      { ...ctx, durationS: 3600 },
    );
    const words = (result.response as { words: { end: number }[] }).words;
    expect(words.at(-1)!.end).toBeGreaterThanOrEqual(3600);
    expect(JSON.stringify(result.response).length).toBeGreaterThan(1024 * 1024);
  });

  it('keeps every confidence of every result kind in [0, 1], whatever the input length', () => {
    // Summaries of long inputs used to carry 0.8 + 0.02 × the utterance's index: 1.04–1.24 and beyond.
    const confidences = (value: unknown, found: number[] = []): number[] => {
      if (Array.isArray(value)) for (const item of value) confidences(item, found);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, inner] of Object.entries(value)) {
          if (key === 'confidence') found.push(inner as number);
          else confidences(inner, found);
        }
      }
      return found;
    };
    const vocabulary = 'router billing refund splitter evening invoice password account modem signal'.split(' ');
    const utterances = (count: number) =>
      Array.from({ length: count }, (_, i) => ({
        speakerId: String(i % 3),
        start: i * 4,
        end: i * 4 + 3,
        // Later utterances repeat a common term more, so the best-ranked ones are far into a long input.
        text: `The ${vocabulary[i % vocabulary.length]!} ${'router '.repeat(i % 17)}needs work ${i}.`,
      }));
    const seen: number[] = [];
    for (const count of [1, 3, 12, 40, 200, 2000]) {
      for (const summaryType of ['Extractive', 'AbstractiveShort', 'AbstractiveLong', 'AbstractiveAll', 'All']) {
        seen.push(...confidences(outcome('summarize', { summaryType, utterances: utterances(count) })));
      }
    }
    for (const durationS of [undefined, 600, 3600]) {
      for (const n of [1, 2, 3]) {
        const contentUri = `https://example.com/calls/${n}.wav`;
        for (const api of Object.keys(ASYNC_APIS) as AsyncApiName[]) {
          if (api === 'punctuate' || api === 'summarize') continue;
          const result = computeOutcome(api, { ...INPUTS[api], contentUri }, { ...ctx, durationS });
          expect(result.status).toBe('Success');
          seen.push(...confidences(result.response));
        }
      }
    }
    expect(seen.length).toBeGreaterThan(50_000);
    const outside = seen.filter((c) => !(typeof c === 'number' && c >= 0 && c <= 1));
    expect(outside).toEqual([]);
  });

  it('fails speaker identification for a speaker that is not fully enrolled', () => {
    const result = computeOutcome('speakerIdentify', INPUTS.speakerIdentify, {
      ...ctx,
      isEnrolledComplete: (id) => id === 'agent_1',
    });
    expect(result).toMatchObject({
      status: 'Fail',
      response: { errors: [{ errorCode: 'CAI-101', parameterName: 'speakerIds' }] },
    });
  });
});
