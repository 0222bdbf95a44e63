/**
 * The rate-limit headers of RingCentral's answers, parsed strictly: `Retry-After` (RFC 9110 §10.2.3) and the
 * integers of `X-Rate-Limit-*`. Pure; the gate clamps what they say.
 */
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** RFC 9110 §5.6.7 HTTP-date: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept. */
const HTTP_DATE = [
  new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`),
  new RegExp(`^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`),
  new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`),
];

/**
 * A `Retry-After` value as milliseconds from `nowMs`: delta-seconds (`1*DIGIT`) or an HTTP-date; null
 * when absent or not in either grammar (`-1`, `1.5`, `soon`). May be ≤ 0 (a past date) or huge: the
 * caller clamps.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!HTTP_DATE.some((grammar) => grammar.test(trimmed))) return null;
  const atMs = Date.parse(trimmed.endsWith('GMT') ? trimmed : `${trimmed} GMT`);
  return Number.isFinite(atMs) ? atMs - nowMs : null;
}

/** A header holding a non-negative integer (`X-Rate-Limit-*`); null when absent, malformed or absurd. */
export function headerInt(value: string | null): number | null {
  const trimmed = value?.trim() ?? '';
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : null;
}
