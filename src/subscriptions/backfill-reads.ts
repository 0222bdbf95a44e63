import type { Logger } from 'pino';
import { ApiRejectedError, JobhookError } from '../errors.js';
import type { Platform, PlatformAnswer } from '../ringcentral/platform.js';
import { headerInt, parseRetryAfterMs } from '../ringcentral/retry-after.js';
import type { RateBudget, RateLimits } from '../store/store.js';

/**
 * The backfill's platform reads, each behind a grant of the store's shared rate budget (every process of the
 * same app and user counts against one window, as the platform does) and retried within a bound: a `429`
 * holds everyone for its `Retry-After` (clamped, so `Retry-After: 0` cannot make a loop hammer the platform),
 * a 5xx is retried after a doubling wait. The rate gate of src/client does the same for the Heavy group's
 * job submissions; this one is sequential (the backfill reads one record at a time) and so much smaller.
 */
export interface ReadBudget {
  store: RateBudget;
  key: string;
  /** Replaced by the `X-Rate-Limit-Limit`/`-Window` an answer states. */
  limits: RateLimits;
}

export interface ReadOptions {
  /** Attempts per read, 429s and 5xx included. @defaultValue 3 */
  attempts?: number;
  /** Shortest wait after a 429 or a 5xx, whatever `Retry-After` says. @defaultValue 1000 */
  minWaitMs?: number;
  /** Longest wait after a 429, whatever `Retry-After` says (it only bounds a garbage value). @defaultValue 120_000 */
  maxWaitMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

/** Hold after a 429 without a usable `Retry-After`, as the platform advises. */
const DEFAULT_RETRY_AFTER_MS = 30_000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Waits until the budget grants one call (none when `budget` is null: an unlimited local emulator). */
async function takeGrant(budget: ReadBudget | null, options: ReadOptions): Promise<void> {
  if (!budget) return;
  for (;;) {
    const waitMs = await budget.store.takeRateToken(budget.key, budget.limits);
    if (waitMs <= 0) return;
    options.logger?.debug({ waitMs, key: budget.key }, 'backfill waits for the rate budget');
    await sleep(Math.min(waitMs, options.maxWaitMs ?? 120_000), options.signal);
  }
}

/**
 * GETs `path` once the budget grants it; answers with the platform's answer, whatever its status, except
 * that 429s and 5xx are retried up to `attempts` and then thrown (JH_ERR_PLATFORM_UNREACHABLE, the
 * platform not taking reads). Network failures propagate as the platform threw them.
 */
export async function budgetedGet(
  platform: Platform,
  path: string,
  budget: ReadBudget | null,
  options: ReadOptions = {},
): Promise<PlatformAnswer> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const minWaitMs = Math.max(1, options.minWaitMs ?? 1000);
  const maxWaitMs = Math.max(minWaitMs, options.maxWaitMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    await takeGrant(budget, options);
    const answer = await platform.get(path);
    const waitMs = await observe(answer, budget, { minWaitMs, maxWaitMs, attempt });
    if (waitMs === null) return answer;
    if (attempt >= attempts) {
      throw new JobhookError(
        'JH_ERR_PLATFORM_UNREACHABLE',
        `GET ${path.split('?')[0]} answered ${answer.status} ${attempts} times; the backfill gives up on it for now`,
        { cause: new ApiRejectedError(answer.status, parsedBody(answer)) },
      );
    }
    options.logger?.info({ status: answer.status, waitMs, attempt }, 'backfill read refused for now; waiting');
    await sleep(waitMs, options.signal);
  }
}

/** Reports what the answer says to the shared budget; returns how long to wait before retrying, or null. */
async function observe(
  answer: PlatformAnswer,
  budget: ReadBudget | null,
  bounds: { minWaitMs: number; maxWaitMs: number; attempt: number },
): Promise<number | null> {
  const clamp = (ms: number): number => Math.min(bounds.maxWaitMs, Math.max(bounds.minWaitMs, ms));
  const retryAfter = parseRetryAfterMs(answer.headers.get('retry-after'), Date.now());
  const remaining = headerInt(answer.headers.get('x-rate-limit-remaining'));
  // The platform knows the limits in force (a raised one, a smaller sandbox's): adopted for later reads.
  const capacity = headerInt(answer.headers.get('x-rate-limit-limit'));
  const windowS = headerInt(answer.headers.get('x-rate-limit-window'));
  if (budget && capacity !== null && capacity > 0) budget.limits.capacity = capacity;
  if (budget && windowS !== null && windowS > 0) budget.limits.windowMs = windowS * 1000;
  let waitMs: number | null = null;
  if (answer.status === 429) waitMs = clamp(retryAfter ?? DEFAULT_RETRY_AFTER_MS);
  else if (answer.status >= 500) waitMs = clamp(retryAfter ?? bounds.minWaitMs * 2 ** (bounds.attempt - 1));
  if (budget && (answer.status === 429 || remaining !== null)) {
    // Other processes of the same app and user hold back too; a hold only lengthens in the store.
    await budget.store.reportRate(budget.key, {
      limits: budget.limits,
      ...(answer.status === 429 && waitMs !== null ? { holdMs: waitMs } : {}),
      ...(remaining !== null ? { remaining } : {}),
    });
  }
  return waitMs;
}

function parsedBody(answer: PlatformAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return answer.text;
  }
}

/** The platform's refusal as an error: `ApiRejectedError` (JH_ERR_API_REJECTED) with its status and code. */
export function rejection(answer: PlatformAnswer): ApiRejectedError {
  return new ApiRejectedError(answer.status, parsedBody(answer));
}
