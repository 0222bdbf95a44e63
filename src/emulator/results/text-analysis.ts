/**
 * Small, deterministic text analysis used by the insight and summary results: word scores, key phrases,
 * questions and sentence ranking, all drawn from the given text.
 */
const STOPWORDS = new Set(
  (
    "a an the and or but so of to in on at for with by from is are was were be been being it its it's this that " +
    "these those i you he she we they me him her us them my your our their i'm you're we're they're i'll you'll " +
    "we'll i'd i've can could would should will shall do does did done have has had not no yes okay ok just " +
    'about as if then than there here what when where which who whom why how all any some each more most very ' +
    "also into up down out over again once too much many sure thank thanks hello hi please well let's let get got"
  ).split(/\s+/),
);

export function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9']+/)
    .filter((w) => w.length > 2 && !STOPWORDS.has(w));
}

/** Term frequencies over several texts. */
export function termFrequencies(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) for (const word of contentWords(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** The most frequent content words, ties broken by first appearance. */
export function keyTerms(texts: readonly string[], count: number): string[] {
  const counts = termFrequencies(texts);
  const order = [...counts.keys()];
  return order
    .map((term, index) => ({ term, index, n: counts.get(term)! }))
    .sort((a, b) => b.n - a.n || a.index - b.index)
    .slice(0, count)
    .map((t) => t.term);
}

/** Scores each text by the summed frequency of its content words, normalised by length. */
export function rankTexts(texts: readonly string[]): number[] {
  const counts = termFrequencies(texts);
  return texts.map((text) => {
    const words = contentWords(text);
    return words.length === 0 ? 0 : words.reduce((sum, w) => sum + (counts.get(w) ?? 0), 0) / Math.sqrt(words.length);
  });
}

/** Indexes of the `count` best-ranked texts, in their original order. */
export function topIndexes(texts: readonly string[], count: number): number[] {
  const scores = rankTexts(texts);
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, count)
    .map((s) => s.index)
    .sort((a, b) => a - b);
}

const QUESTION_STARTS = new Set(
  'who what when where why how is are was were do does did can could would will should shall may might have has'.split(
    ' ',
  ),
);

export function isQuestion(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.endsWith('?')) return true;
  const first =
    trimmed
      .split(/\s+/)[0]
      ?.toLowerCase()
      .replace(/[^a-z]/g, '') ?? '';
  return QUESTION_STARTS.has(first) && !/[.!]$/.test(trimmed);
}

/** Splits text into sentences at terminal punctuation. */
export function sentencesOf(text: string): string[] {
  return (
    text
      .match(/[^.!?]+[.!?]*/g)
      ?.map((s) => s.trim())
      .filter(Boolean) ?? []
  );
}
