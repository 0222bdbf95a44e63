import { round2 } from '../rng.js';
import { isQuestion, keyTerms, topIndexes } from './text-analysis.js';

/** Punctuation of plain word strings: capitals, contractions, commas before conjunctions, end marks. */
const CONTRACTIONS: Record<string, string> = {
  dont: "don't",
  cant: "can't",
  wont: "won't",
  isnt: "isn't",
  arent: "aren't",
  didnt: "didn't",
  doesnt: "doesn't",
  wasnt: "wasn't",
  couldnt: "couldn't",
  wouldnt: "wouldn't",
  shouldnt: "shouldn't",
  thats: "that's",
  whats: "what's",
  theres: "there's",
  youre: "you're",
  theyre: "they're",
  im: "I'm",
  ive: "I've",
  id: "I'd",
  lets: "let's",
};

export function punctuateText(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  const out = words.map((raw, i) => {
    const lower = raw.toLowerCase();
    let word = CONTRACTIONS[lower] ?? (lower === 'i' ? 'I' : raw);
    if (i > 0 && (lower === 'but' || lower === 'because') && !/[,.;!?]$/.test(words[i - 1]!)) word = `, ${word}`;
    return word;
  });
  let sentence = out.join(' ').replace(/ ,/g, ',');
  sentence = sentence.charAt(0).toUpperCase() + sentence.slice(1);
  if (!/[.!?]$/.test(sentence)) sentence += isQuestion(sentence) ? '?' : '.';
  return sentence;
}

export function punctuateResult(texts: readonly string[]): { texts: string[] } {
  return { texts: texts.map(punctuateText) };
}

export interface SummaryUnit {
  text: string;
  speakerId?: string;
  start?: number;
  end?: number;
}

interface SummaryValue {
  value: string;
  start?: number;
  end?: number;
  speakerId?: string;
  confidence?: number;
}

function timing(units: readonly SummaryUnit[]): { start?: number; end?: number } {
  const starts = units.map((u) => u.start).filter((s): s is number => s !== undefined);
  const ends = units.map((u) => u.end).filter((e): e is number => e !== undefined);
  return {
    ...(starts.length ? { start: Math.min(...starts) } : {}),
    ...(ends.length ? { end: Math.max(...ends) } : {}),
  };
}

/** Extractive: the best-ranked utterances, in conversation order; start/end only when given. */
function extractive(units: readonly SummaryUnit[]): SummaryValue[] {
  const picked = topIndexes(
    units.map((u) => u.text),
    Math.max(1, Math.ceil(units.length / 4)),
  );
  return picked.map((i) => {
    const u = units[i]!;
    return { value: u.text, ...timing([u]), speakerId: u.speakerId ?? '', confidence: 0.9 };
  });
}

function speakerName(id: string | undefined): string {
  return id === undefined || id === '' ? 'A speaker' : `Speaker ${id}`;
}

/** Abstractive: sentences composed from the conversation's key terms and its best-ranked utterances. */
function abstractive(units: readonly SummaryUnit[], long: boolean): SummaryValue[] {
  const texts = units.map((u) => u.text);
  const terms = keyTerms(texts, long ? 6 : 3);
  const speakers = [...new Set(units.map((u) => u.speakerId).filter((s): s is string => !!s))];
  const who = speakers.length > 1 ? `${speakers.length} speakers` : speakerName(speakers[0]);
  const short: SummaryValue = {
    value: `${who} discussed ${terms.length ? terms.join(', ') : 'the conversation'}.`,
    ...timing(units),
    confidence: 0.86,
  };
  if (!long) return [short];
  // At most three details, so 0.80–0.84 by position among them; the utterance's own index once set this
  // and passed 1 on inputs of more than ten utterances.
  const details = topIndexes(texts, Math.min(3, units.length)).map((i, n) => {
    const u = units[i]!;
    const said = u.text.replace(/[.!?]+$/, '');
    return {
      value: `${speakerName(u.speakerId)} said: "${said}".`,
      ...timing([u]),
      confidence: round2(0.8 + 0.02 * n),
    };
  });
  return [short, ...details];
}

export function summarizeResult(input: { summaryType: string; utterances: readonly SummaryUnit[] }): {
  summaries: { name: string; values: SummaryValue[] }[];
} {
  const { summaryType, utterances } = input;
  const summaries: { name: string; values: SummaryValue[] }[] = [];
  if (summaryType === 'Extractive' || summaryType === 'All') {
    summaries.push({ name: 'Extractive', values: extractive(utterances) });
  }
  if (['AbstractiveShort', 'AbstractiveAll', 'All'].includes(summaryType)) {
    summaries.push({ name: 'AbstractiveShort', values: abstractive(utterances, false) });
  }
  if (['AbstractiveLong', 'AbstractiveAll', 'All'].includes(summaryType)) {
    summaries.push({ name: 'AbstractiveLong', values: abstractive(utterances, true) });
  }
  return { summaries };
}
