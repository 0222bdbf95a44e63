import type { Logger } from 'pino';
import { JobhookError } from '../errors.js';
import type { PlatformAnswer } from '../ringcentral/platform.js';
import type { RateBudget, RateLimits } from '../store/store.js';
import { headerInt, parseRetryAfterMs } from './retry-after.js';

export { parseRetryAfterMs } from './retry-after.js';
export { rateBudgetKey } from './rate-budget-key.js';

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
  /**
   * The budget shared through the store with every process of the same app and user; without it the gate
   * only holds back after what this process heard (429, an exhausted window).
   */
  budget?: { store: RateBudget; key: string; limits?: Partial<Pick<RateLimits, 'capacity' | 'windowMs'>> };
  /**
   * Makes the platform ready (`Platform.ready`: login, a token refresh due soon) before each ask of the
   * budget, so that a granted call leaves at once: the budget counts a grant from when it is taken and the
   * platform counts the request when it arrives; a login or refresh between the two (seconds) could carry
   * the request past the budget's margin into a window the budget thinks free. When it fails, every queued
   * call fails with its error, unsent (they all waited for that login).
   */
  prepare?: () => Promise<void>;
  logger?: Logger;
}

/** RingCentral's Heavy group by default: 10 requests per user per minute. */
export const DEFAULT_RATE_LIMITS: Readonly<Pick<RateLimits, 'capacity' | 'windowMs'>> = Object.freeze({
  capacity: 10,
  windowMs: 60_000,
});

/** Node clamps a longer timer to 1 ms (with a warning): it would turn a long wait into a spin. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Hold after a 429 without a usable `Retry-After`, as the platform advises. */
const DEFAULT_RETRY_AFTER_MS = 30_000;

/** Low priority keeps this much of the window for submissions: 30 %, at least 1 when there is more than 1. */
export function reserveFor(capacity: number): number {
  return capacity > 1 ? Math.max(1, Math.floor((capacity * 3) / 10)) : 0;
}

/** A call the gate did not let through because the store holding the budget failed: it was never sent. */
export class RateBudgetUnavailableError extends JobhookError {
  constructor(cause: unknown) {
    super(
      'JH_ERR_STORE_UNAVAILABLE',
      `the rate budget could not be read: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** A call the gate has not let through yet. */
interface Waiter {
  low: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * One rate-limit group's gate (the AI API's Heavy group: submits and status reads share it). It lets at
 * most `maxInFlight` calls run, each only once the shared budget (`budget`) grants it one; status reads
 * (`low`) only take what leaves `reserveFor(capacity)` of the window to submissions. Every answer is
 * reported to the budget: a `429` holds everyone for `Retry-After` (30 s when absent or malformed, as the
 * platform advises), `X-Rate-Limit-Remaining` fills the window as the platform counted it (`0` holds for
 * `X-Rate-Limit-Window`, 60 s when absent); holds are clamped to [`minWaitMs`, `maxWaitMs`] and kept
 * locally too, so a held process does not ask the store in vain. `X-Rate-Limit-Limit`/`-Window` replace
 * the configured limits: the platform knows a raised limit.
 *
 * States: open → preparing (`prepare`, when given: the platform logs in or refreshes; the queue's head is
 * chosen afresh after it, high priority first) → asking (the head asks the budget; one ask at a time) →
 * open, or waiting (one timer: a local hold, or the wait the budget named) → open. A submission that
 * arrives while a status read waits, or while a status read asks and is then told to wait, asks at once
 * rather than wait out the read's turn. closed: timers cleared, queued calls rejected, never sent. A later
 * answer can only lengthen a hold, never shorten it.
 */
export class RateGate {
  #blockedUntilMs = 0;
  #inFlight = 0;
  readonly #high: Waiter[] = [];
  readonly #low: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** The timer waits for a status read's turn: a submission need not wait it out. */
  #timerForLow = false;
  /** Preparing or asking: one at a time. */
  #asking = false;
  /** `prepare` has just succeeded: the ask that follows at once may use it, no later one. */
  #prepared = false;
  #closed = false;
  /** Set while the store fails, so an outage is logged once. */
  #storeDown = false;
  readonly #limits: { capacity: number; windowMs: number };
  readonly #budget: { store: RateBudget; key: string } | null;
  readonly #prepare: (() => Promise<void>) | undefined;
  readonly #maxInFlight: number;
  readonly #minWaitMs: number;
  readonly #maxWaitMs: number;
  readonly #logger: Logger | undefined;

  constructor(options: RateGateOptions = {}) {
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#minWaitMs = Math.max(1, options.minWaitMs ?? 1000);
    this.#maxWaitMs = Math.min(MAX_TIMER_MS, Math.max(this.#minWaitMs, options.maxWaitMs ?? 600_000));
    this.#budget = options.budget ? { store: options.budget.store, key: options.budget.key } : null;
    this.#limits = { ...DEFAULT_RATE_LIMITS, ...options.budget?.limits };
    for (const [name, value] of Object.entries(this.#limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new JobhookError('JH_ERR_INVALID_CONFIG', `rateBudget.${name} must be a positive integer, got ${value}`);
      }
    }
    this.#prepare = options.prepare;
    this.#logger = options.logger;
  }

  get queued(): number {
    return this.#high.length + this.#low.length;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The limits in force: the configured ones until the platform names its own. */
  get limits(): Readonly<{ capacity: number; windowMs: number }> {
    return { ...this.#limits };
  }

  /** When this process's own hold ends (ms since the epoch); 0 when none. */
  get blockedUntilMs(): number {
    return this.#blockedUntilMs > Date.now() ? this.#blockedUntilMs : 0;
  }

  /** Runs `call` once the gate lets it through; `low` for reconciliation's status reads. */
  async run(call: () => Promise<PlatformAnswer>, options: { low?: boolean } = {}): Promise<PlatformAnswer> {
    if (this.#closed) throw closedError();
    const low = options.low ?? false;
    // The pump counts the call in flight when it lets it through.
    await new Promise<void>((resolve, reject) => {
      (low ? this.#low : this.#high).push({ low, resolve, reject });
      if (!low && this.#timerForLow) this.#clearTimer();
      this.#pump();
    });
    try {
      const answer = await call();
      await this.#observe(answer);
      return answer;
    } finally {
      this.#inFlight--;
      this.#pump();
    }
  }

  async #observe(answer: PlatformAnswer): Promise<void> {
    const now = Date.now();
    const header = (name: string): string | null => answer.headers.get(name);
    const capacity = headerInt(header('x-rate-limit-limit'));
    const window = headerInt(header('x-rate-limit-window'));
    if (capacity !== null && capacity > 0) this.#limits.capacity = capacity;
    if (window !== null && window > 0) this.#limits.windowMs = window * 1000;
    const remaining = headerInt(header('x-rate-limit-remaining'));
    let waitMs: number | null = null;
    if (answer.status === 429) {
      waitMs = parseRetryAfterMs(header('retry-after'), now) ?? DEFAULT_RETRY_AFTER_MS;
    } else if (remaining === 0) {
      waitMs = window === null ? DEFAULT_RATE_LIMITS.windowMs : window * 1000;
    }
    const holdMs = waitMs === null ? undefined : Math.min(this.#maxWaitMs, Math.max(this.#minWaitMs, waitMs));
    if (holdMs !== undefined) this.#blockedUntilMs = Math.max(this.#blockedUntilMs, now + holdMs);
    if (!this.#budget || (holdMs === undefined && remaining === null)) return;
    const report = { limits: { ...this.#limits }, ...(holdMs !== undefined && { holdMs }) };
    try {
      await this.#budget.store.reportRate(this.#budget.key, remaining === null ? report : { ...report, remaining });
      this.#storeUp();
    } catch (error) {
      // The answer stands; this process's own hold still applies, and the next take will tell.
      this.#storeFailed(error);
    }
  }

  #pump(): void {
    if (this.#closed || this.#asking || this.#timer) return;
    // A preparation counts only for the ask that follows it at once: a hold or a full gate may last longer
    // than the token it made sure of.
    const prepared = this.#prepared;
    this.#prepared = false;
    const holdMs = this.#blockedUntilMs - Date.now();
    if (holdMs > 0) return this.#wait(holdMs, false);
    if (this.#inFlight >= this.#maxInFlight) return;
    const waiter = this.#high[0] ?? this.#low[0];
    if (!waiter) return;
    if (this.#prepare && !prepared) return this.#runPrepare(this.#prepare);
    if (!this.#budget) return this.#admit(waiter);
    const limits: RateLimits = { ...this.#limits, reserve: waiter.low ? reserveFor(this.#limits.capacity) : 0 };
    this.#asking = true;
    this.#budget.store.takeRateToken(this.#budget.key, limits).then(
      (waitMs) => {
        this.#asking = false;
        this.#storeUp();
        if (this.#closed) return;
        if (waitMs <= 0) this.#admit(waiter);
        // A submission queued during a status read's ask may still fit where the read (which leaves the
        // reserve) does not: it asks now instead of waiting out the read's turn.
        else if (waiter.low && this.#high.length > 0) this.#pump();
        else this.#wait(waitMs, waiter.low);
      },
      (error: unknown) => {
        this.#asking = false;
        this.#storeFailed(error);
        // Never sent: the caller retries within its own attempts (a submission) or its next pass (a read).
        this.#remove(waiter);
        waiter.reject(new RateBudgetUnavailableError(error));
        this.#pump();
      },
    );
  }

  #runPrepare(prepare: () => Promise<void>): void {
    this.#asking = true;
    Promise.resolve()
      .then(prepare)
      .then(
        () => {
          this.#asking = false;
          this.#prepared = true;
          this.#pump();
        },
        (error: unknown) => {
          this.#asking = false;
          if (this.#closed) return;
          // One login serves every queued call: they fail with it, as callers sharing a login would, rather
          // than each start a login chain of its own in turn.
          for (const waiter of [...this.#high.splice(0), ...this.#low.splice(0)]) waiter.reject(error as Error);
        },
      );
  }

  #admit(waiter: Waiter): void {
    this.#remove(waiter);
    this.#inFlight++;
    waiter.resolve();
    this.#pump();
  }

  #remove(waiter: Waiter): void {
    const queue = waiter.low ? this.#low : this.#high;
    const at = queue.indexOf(waiter);
    if (at >= 0) queue.splice(at, 1);
  }

  #wait(ms: number, forLow: boolean): void {
    this.#timerForLow = forLow;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerForLow = false;
        this.#pump();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerForLow = false;
  }

  #storeFailed(error: unknown): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#logger?.warn({ err: error }, 'rate budget unavailable in the store; platform calls wait and retry');
  }

  #storeUp(): void {
    if (!this.#storeDown) return;
    this.#storeDown = false;
    this.#logger?.info('rate budget available again');
  }

  /** Clears the timer and rejects every queued call (none of them was sent). */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    for (const waiter of [...this.#high.splice(0), ...this.#low.splice(0)]) waiter.reject(closedError());
  }
}

function closedError(): JobhookError {
  return new JobhookError(
    'JH_ERR_STORE_CLOSED',
    'the client was closed before the rate gate let this call through; it was not sent',
  );
}
