import type { RateLimit } from './options.js';

/**
 * The Heavy group's limit per client over a sliding window (reference §8): over the limit, the client is
 * refused for `penaltyMs`, and each request during the penalty restarts it.
 */
export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterS: number };

export class RateLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #penaltyUntil = new Map<string, number>();

  constructor(private readonly limit: RateLimit) {}

  check(client: string, nowMs = Date.now()): RateDecision {
    const until = this.#penaltyUntil.get(client) ?? 0;
    if (nowMs < until) {
      this.#penaltyUntil.set(client, nowMs + this.limit.penaltyMs);
      return { allowed: false, retryAfterS: Math.ceil(this.limit.penaltyMs / 1000) };
    }
    const hits = (this.#hits.get(client) ?? []).filter((t) => t > nowMs - this.limit.windowMs);
    if (hits.length >= this.limit.limit) {
      this.#penaltyUntil.set(client, nowMs + this.limit.penaltyMs);
      this.#hits.set(client, hits);
      return { allowed: false, retryAfterS: Math.ceil(this.limit.penaltyMs / 1000) };
    }
    hits.push(nowMs);
    this.#hits.set(client, hits);
    return { allowed: true, remaining: this.limit.limit - hits.length };
  }

  headers(remaining: number): Record<string, string> {
    return {
      'x-rate-limit-group': 'heavy',
      'x-rate-limit-limit': String(this.limit.limit),
      'x-rate-limit-remaining': String(Math.max(0, remaining)),
      'x-rate-limit-window': String(Math.ceil(this.limit.windowMs / 1000)),
    };
  }
}
