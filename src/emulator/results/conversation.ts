import { CORPUS, type Dialogue } from '../corpus.js';
import { createRng, hashToUint32, round2, type Rng } from '../rng.js';

/**
 * A timed conversation drawn from the corpus: the common ground of every audio result, so words,
 * utterances and speaker insights agree. Words are ordered, inside their utterance, and spell its text
 * (lower-cased, without punctuation, as the API's `words` are).
 */
export interface TimedWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
}

export interface TimedUtterance {
  speakerId: string;
  start: number;
  end: number;
  /** As spoken, punctuated. */
  text: string;
  confidence: number;
  words: TimedWord[];
}

export interface Conversation {
  dialogue: Dialogue;
  speakerCount: number;
  utterances: TimedUtterance[];
  durationS: number;
}

/** Lower-cases and strips punctuation but apostrophes, the way the API spells `words[].word`. */
export function normalizeWord(token: string): string {
  return token.toLowerCase().replace(/[^a-z0-9']/g, '');
}

export function wordsOf(text: string): string[] {
  return text.split(/\s+/).map(normalizeWord).filter(Boolean);
}

function timeUtterance(rng: Rng, speakerId: string, text: string, startS: number): TimedUtterance {
  const words: TimedWord[] = [];
  let t = startS;
  for (const word of wordsOf(text)) {
    const duration = 0.12 + 0.05 * word.length * rng.between(0.8, 1.2);
    const start = round2(t);
    const end = round2(Math.max(start + 0.05, t + duration));
    words.push({ word, start, end, confidence: round2(rng.between(0.82, 0.99)) });
    t = end + rng.between(0.01, 0.09);
  }
  const confidence = round2(words.reduce((sum, w) => sum + w.confidence, 0) / Math.max(1, words.length));
  return {
    speakerId,
    start: words[0]?.start ?? round2(startS),
    end: words.at(-1)?.end ?? round2(startS),
    text,
    confidence,
    words,
  };
}

/**
 * Picks the dialogue by a hash of the contentUri (and the seed) and times it. With `durationS` the
 * dialogue repeats until the conversation lasts at least that long (a large mode asks for an hour).
 */
export function buildConversation(contentUri: string, seed: string, durationS?: number): Conversation {
  const dialogue = CORPUS[hashToUint32(seed, contentUri) % CORPUS.length]!;
  const rng = createRng(seed, contentUri, 'conversation');
  const utterances: TimedUtterance[] = [];
  let t = round2(rng.between(0.2, 1.5));
  const target = durationS ?? 0;
  for (let i = 0; i < dialogue.lines.length || t < target; i++) {
    const [speaker, text] = dialogue.lines[i % dialogue.lines.length]!;
    const utterance = timeUtterance(rng, String(speaker), text, t);
    utterances.push(utterance);
    t = utterance.end + rng.between(0.25, 0.9);
  }
  return { dialogue, speakerCount: dialogue.speakers, utterances, durationS: round2(t) };
}
