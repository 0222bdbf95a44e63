import { EMOTIONS } from '../../ringcentral/apis.js';
import { createRng, round2 } from '../rng.js';
import type { Conversation, TimedUtterance } from './conversation.js';
import { isQuestion, keyTerms, topIndexes } from './text-analysis.js';

/** Result builders of the audio endpoints (reference §3.2–3.4, 3.7, 3.8), all from one Conversation. */
type Input = Record<string, unknown>;

const plainText = (u: TimedUtterance): string => u.words.map((w) => w.word).join(' ');

export function speechToTextResult(input: Input, conv: Conversation): Record<string, unknown> {
  const punctuate = input.enablePunctuation !== false;
  const diarize = input.enableSpeakerDiarization === true;
  const text = (u: TimedUtterance): string => (punctuate ? u.text : plainText(u));
  const words = conv.utterances.flatMap((u) =>
    u.words.map((w) => ({ ...w, ...(diarize ? { speakerId: u.speakerId } : {}) })),
  );
  const result: Record<string, unknown> = {
    transcript: conv.utterances.map(text).join(' '),
    confidence: round2(words.reduce((s, w) => s + w.confidence, 0) / Math.max(1, words.length)),
    words,
  };
  if (diarize) {
    result.speakerCount = conv.speakerCount;
    result.utterances = conv.utterances.map((u) => ({
      speakerId: u.speakerId,
      start: u.start,
      end: u.end,
      text: text(u),
      confidence: u.confidence,
      wordTimings: u.words.map((w) => ({
        word: w.word,
        start: w.start,
        end: w.end,
        confidence: w.confidence,
        speakerId: u.speakerId,
      })),
    }));
  }
  return result;
}

export function speakerDiarizeResult(conv: Conversation): Record<string, unknown> {
  return {
    speakerCount: conv.speakerCount,
    utterances: conv.utterances.map((u) => ({
      speakerId: u.speakerId,
      start: u.start,
      end: u.end,
      confidence: u.confidence,
    })),
  };
}

/**
 * Maps the conversation's speakers onto the requested enrolled ids in order; speakers beyond the list
 * are `UserNotIdentified`, as the service marks unknown voices.
 */
export function speakerIdentifyResult(speakerIds: readonly string[], conv: Conversation): Record<string, unknown> {
  return {
    utterances: conv.utterances.map((u) => ({
      speakerId: speakerIds[Number(u.speakerId)] ?? 'UserNotIdentified',
      start: u.start,
      end: u.end,
      confidence: u.confidence,
    })),
  };
}

function speakerInsights(conv: Conversation, wanted: (name: string) => boolean): Record<string, unknown> {
  const speakers = [...new Set(conv.utterances.map((u) => u.speakerId))];
  const talk = new Map(speakers.map((s) => [s, 0]));
  const wordCount = new Map(speakers.map((s) => [s, 0]));
  for (const u of conv.utterances) {
    talk.set(u.speakerId, talk.get(u.speakerId)! + (u.end - u.start));
    wordCount.set(u.speakerId, wordCount.get(u.speakerId)! + u.words.length);
  }
  const totalTalk = [...talk.values()].reduce((a, b) => a + b, 0) || 1;
  const insights: Record<string, unknown>[] = [];
  if (wanted('Pace')) {
    insights.push({
      name: 'Pace',
      values: speakers.map((s) => {
        const wpm = round2((wordCount.get(s)! / Math.max(talk.get(s)!, 1)) * 60);
        return { speakerId: s, value: wpm < 130 ? 'slow' : wpm > 170 ? 'fast' : 'medium', wpm };
      }),
    });
  }
  if (wanted('TalkToListenRatio')) {
    insights.push({
      name: 'TalkToListenRatio',
      values: speakers.map((s) => {
        const share = Math.round((talk.get(s)! / totalTalk) * 100);
        return { speakerId: s, value: `${share}:${100 - share}` };
      }),
    });
  }
  if (wanted('QuestionsAsked')) {
    insights.push({
      name: 'QuestionsAsked',
      values: speakers.map((s) => {
        const questions = conv.utterances
          .filter((u) => u.speakerId === s && isQuestion(u.text))
          .map((u) => ({ text: u.text, start: u.start, end: u.end }));
        return { speakerId: s, value: questions.length, questions };
      }),
    });
  }
  return { speakerCount: conv.speakerCount, insights };
}

function firstMention(conv: Conversation, term: string): TimedUtterance {
  return conv.utterances.find((u) => u.words.some((w) => w.word === term)) ?? conv.utterances[0]!;
}

export function analyzeInteractionResult(input: Input, conv: Conversation, seed: string): Record<string, unknown> {
  const requested = new Set(input.insights as string[]);
  const wanted = (name: string): boolean => requested.has('All') || requested.has(name);
  const rng = createRng(seed, 'insights');
  const texts = conv.utterances.map((u) => u.text);
  const spanOf = (u: TimedUtterance) => ({ start: u.start, end: u.end });
  const whole = { start: conv.utterances[0]!.start, end: conv.utterances.at(-1)!.end };
  const conversational: Record<string, unknown>[] = [];
  const terms = (n: number) =>
    keyTerms(texts, n).map((term) => ({
      value: term,
      ...spanOf(firstMention(conv, term)),
      confidence: round2(rng.between(0.75, 0.97)),
    }));
  if (wanted('KeyPhrases')) conversational.push({ name: 'KeyPhrases', values: terms(8) });
  if (wanted('Topics')) conversational.push({ name: 'Topics', values: terms(3).map((t) => ({ ...t, ...whole })) });
  if (wanted('ExtractiveSummary')) {
    const picked = topIndexes(texts, Math.max(1, Math.ceil(texts.length / 5)));
    conversational.push({
      name: 'ExtractiveSummary',
      values: picked.map((i) => ({ value: texts[i]!, ...spanOf(conv.utterances[i]!), confidence: 0.9 })),
    });
  }
  if (wanted('AbstractiveSummaryShort')) {
    conversational.push({
      name: 'AbstractiveSummaryShort',
      values: [
        {
          value: `${conv.dialogue.title}: the speakers discussed ${keyTerms(texts, 3).join(', ')}.`,
          ...whole,
          confidence: 0.86,
        },
      ],
    });
  }
  if (wanted('AbstractiveSummaryLong')) {
    const picked = topIndexes(texts, Math.min(4, texts.length));
    conversational.push({
      name: 'AbstractiveSummaryLong',
      values: picked.map((i, n) => ({
        value: `Speaker ${conv.utterances[i]!.speakerId} said: "${texts[i]!.replace(/[.!?]+$/, '')}".`,
        ...spanOf(conv.utterances[i]!),
        confidence: 0.84,
        groupId: String(n),
      })),
    });
  }
  return {
    utteranceInsights: conv.utterances.map((u) => ({
      start: u.start,
      end: u.end,
      text: u.text,
      confidence: u.confidence,
      speakerId: u.speakerId,
    })),
    speakerInsights: speakerInsights(conv, wanted),
    conversationalInsights: conversational,
  };
}

/** 2022 emotion recognition: an array (not an object) of 3–6 s slices. */
export function recognizeEmotionResult(conv: Conversation, seed: string): Record<string, unknown>[] {
  const rng = createRng(seed, 'emotion');
  const slices: Record<string, unknown>[] = [];
  for (let t = 0; t < conv.durationS;) {
    const end = round2(Math.min(conv.durationS, t + rng.between(3, 6)));
    slices.push({ start: round2(t), end, emotion: rng.pick(EMOTIONS), confidence: round2(rng.between(0.5, 0.95)) });
    t = end;
  }
  return slices;
}
