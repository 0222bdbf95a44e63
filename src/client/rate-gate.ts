import type { PlatformAnswer } from '../ringcentral/platform.js';

export interface RateGateOptions {
  /** Calls in flight at once. @defaultValue 2 */
  maxInFlight?: number;
  /** Shortest hold after a 429 or an exhausted window, whatever the header says (`0`, a past date). @defaultValue 1000 */
  minWaitMs?: number;
  /**
   * Longest hold, whatever the header says. The platform's documented penalty is 60 s, but coming back
   * before the server's own `Retry-After` restarts its penalty, so larger values are honoured up to this
   * bound; it only caps a garbage value's cost (and stays far below Node's timer limit of 2^31-1 ms).
   * @defaultValue 600_000 (10 minutes)
   */
  maxWaitMs?: number;
}

/** Node clamps a longer timer to 1 ms (with a warning): it would turn a long wait into a spin. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Hold after a 429 without a usable `Retry-After`, as the platform advises. */
const DEFAULT_RETRY_AFTER_MS = 30_000;
/** Hold after `X-Rate-Limit-Remaining: 0` without a usable `X-Rate-Limit-Window` (the documented window). */
const DEFAULT_WINDOW_MS = 60_000;

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

/** `X-Rate-Limit-Window`: delta-seconds only; null when absent or malformed. */
function parseSecondsMs(value: string | null): number | null {
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : null;
}

/**
 * One rate-limit group's gate (the AI API's Heavy group: submits and status reads share it). It lets at
 * most `maxInFlight` calls run, and after an answer that says so it holds every call back: `429` for
 * `Retry-After` (30 s when absent or malformed, as the platform advises), `X-Rate-Limit-Remaining: 0`
 * for `X-Rate-Limit-Window` seconds (60 when absent), each hold clamped to [`minWaitMs`, `maxWaitMs`].
 *
 * States: open (calls pass up to `maxInFlight`, the rest queue) → held (until `blockedUntilMs`; one timer
 * re-pumps the queue then) → open. A later answer can only lengthen a hold, never shorten it.
 */
export class RateGate {
  #blockedUntilMs = 0;
  #inFlight = 0;
  #queue: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #maxInFlight: number;
  readonly #minWaitMs: number;
  readonly #maxWaitMs: number;

  constructor(options: RateGateOptions = {}) {
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#minWaitMs = Math.max(1, options.minWaitMs ?? 1000);
    this.#maxWaitMs = Math.min(MAX_TIMER_MS, Math.max(this.#minWaitMs, options.maxWaitMs ?? 600_000));
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** When the gate opens again (ms since the epoch); 0 when open. */
  get blockedUntilMs(): number {
    return this.#blockedUntilMs > Date.now() ? this.#blockedUntilMs : 0;
  }

  async run(call: () => Promise<PlatformAnswer>): Promise<PlatformAnswer> {
    // The pump counts the call in flight when it lets it through.
    await new Promise<void>((resolve) => {
      this.#queue.push(resolve);
      this.#pump();
    });
    try {
      const answer = await call();
      this.#observe(answer);
      return answer;
    } finally {
      this.#inFlight--;
      this.#pump();
    }
  }

  #observe(answer: PlatformAnswer): void {
    const now = Date.now();
    let waitMs: number | null = null;
    if (answer.status === 429) {
      waitMs = parseRetryAfterMs(answer.headers.get('retry-after'), now) ?? DEFAULT_RETRY_AFTER_MS;
    } else if (answer.headers.get('x-rate-limit-remaining')?.trim() === '0') {
      waitMs = parseSecondsMs(answer.headers.get('x-rate-limit-window')) ?? DEFAULT_WINDOW_MS;
    }
    if (waitMs === null) return;
    const holdMs = Math.min(this.#maxWaitMs, Math.max(this.#minWaitMs, waitMs));
    this.#blockedUntilMs = Math.max(this.#blockedUntilMs, now + holdMs);
  }

  #pump(): void {
    const waitMs = this.#blockedUntilMs - Date.now();
    if (waitMs > 0) {
      this.#timer ??= setTimeout(
        () => {
          this.#timer = null;
          this.#pump();
        },
        Math.min(waitMs, MAX_TIMER_MS),
      );
      return;
    }
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      this.#inFlight++;
      this.#queue.shift()!();
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
