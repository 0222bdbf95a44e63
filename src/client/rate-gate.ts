import type { PlatformAnswer } from '../ringcentral/platform.js';

/**
 * One rate-limit group's gate (the AI API's Heavy group: submits and status reads share it). It lets at
 * most `maxInFlight` calls run, and after an answer that says so it holds every call back: `429` for
 * `Retry-After` seconds (30 when absent, as the platform advises), `X-Rate-Limit-Remaining: 0` for
 * `X-Rate-Limit-Window` seconds.
 */
export class RateGate {
  #blockedUntilMs = 0;
  #inFlight = 0;
  #queue: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #maxInFlight: number;

  constructor(options: { maxInFlight?: number } = {}) {
    this.#maxInFlight = options.maxInFlight ?? 2;
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
    const seconds = (name: string): number | null => {
      const value = Number(answer.headers.get(name));
      return answer.headers.has(name) && Number.isFinite(value) ? value : null;
    };
    let waitS = 0;
    if (answer.status === 429) waitS = seconds('retry-after') ?? 30;
    else if (seconds('x-rate-limit-remaining') === 0) waitS = seconds('x-rate-limit-window') ?? 60;
    if (waitS > 0) this.#blockedUntilMs = Math.max(this.#blockedUntilMs, Date.now() + waitS * 1000);
  }

  #pump(): void {
    const waitMs = this.#blockedUntilMs - Date.now();
    if (waitMs > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#pump();
      }, waitMs);
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
