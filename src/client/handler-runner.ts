import type { Logger } from 'pino';
import { readOutcome } from '../store/outcome.js';
import type { Store } from '../store/store.js';

/** What a result handler receives: one terminal result (Success or Fail) of one request. */
export interface HandlerInput {
  requestId: string;
  jobId: string | null;
  api: string | null;
  status: 'Success' | 'Fail';
  /** The envelope's `response`: the typed result on Success, `{errors}` on Fail. */
  response: unknown;
  envelope: Record<string, unknown>;
  /** The exact bytes stored for the deciding delivery, and its content type as received. */
  body: Buffer;
  contentType: string | null;
  /** 1 for the first attempt. */
  attempt: number;
}

export type ResultHandler = (input: HandlerInput) => unknown;

export interface HandlerRunnerOptions {
  store: Store;
  /** Attempts before a run is dead-lettered. @defaultValue 5 */
  maxAttempts?: number;
  /** Wait before the second attempt, doubling after each. @defaultValue 1000 */
  backoffMs?: number;
  /** A run not finished within this is taken to have crashed and runs again. @defaultValue 60000 */
  leaseMs?: number;
  /** How often due runs (retries, other processes' settlements) are looked for. @defaultValue 1000 */
  pollMs?: number;
  logger?: Logger;
}

interface Registered {
  name: string;
  api: string | null;
  fn: ResultHandler;
}

/**
 * Runs result handlers from the store's durable queue: at least once per terminal result, even across
 * crashes (a run's lease expires and it is claimed again), with backoff between failed attempts and a
 * dead-letter state after the last. Handlers should be idempotent on `requestId`.
 */
export class HandlerRunner {
  readonly #opts: Required<Omit<HandlerRunnerOptions, 'logger'>> & { logger?: Logger };
  readonly #handlers: Registered[] = [];
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: HandlerRunnerOptions) {
    this.#opts = { maxAttempts: 5, backoffMs: 1000, leaseMs: 60_000, pollMs: 1000, ...options };
  }

  async register(name: string, api: string | null, fn: ResultHandler): Promise<void> {
    if (this.#handlers.some((h) => h.name === name)) {
      throw new Error(`a handler named ${name} is already registered; pass a distinct name`);
    }
    await this.#opts.store.registerHandler(name);
    this.#handlers.push({ name, api, fn });
    this.#start();
    this.kick();
  }

  #start(): void {
    if (this.#timer) return;
    this.#unsubscribe = this.#opts.store.onSettled(() => this.kick());
    this.#timer = setInterval(() => this.kick(), this.#opts.pollMs);
    this.#timer.unref();
  }

  /** Looks for due runs now (coalesced with a pass in progress). */
  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain()
      .catch((error: unknown) => this.#opts.logger?.error({ err: error }, 'handler queue pass failed'))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #drain(): Promise<void> {
    const { store } = this.#opts;
    for (let progress = true; progress;) {
      progress = false;
      for (const handler of this.#handlers) {
        const runs = await store.claimHandlerRuns(handler.name, handler.api, Date.now(), this.#opts.leaseMs, 20);
        for (const run of runs) {
          progress = true;
          await this.#execute(handler, run.requestId, run.attempts);
        }
      }
    }
  }

  async #execute(handler: Registered, requestId: string, attempt: number): Promise<void> {
    const { store, logger } = this.#opts;
    try {
      const request = (await store.findRequest(requestId))!;
      const { delivery, envelope } = (await readOutcome(store, request))!;
      const headers = delivery.rawHeaders;
      const typeAt = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type');
      await handler.fn({
        body: delivery.body,
        contentType: typeAt >= 0 ? (headers[typeAt + 1] ?? null) : null,
        requestId,
        jobId: request.jobId,
        api: request.api,
        status: request.state === 'succeeded' ? 'Success' : 'Fail',
        response: envelope.response,
        envelope,
        attempt,
      });
      await store.completeHandlerRun(handler.name, requestId, { ok: true });
    } catch (error) {
      const last = attempt >= this.#opts.maxAttempts;
      const retryAtMs = last ? null : Date.now() + this.#opts.backoffMs * 2 ** (attempt - 1);
      await store.completeHandlerRun(handler.name, requestId, {
        ok: false,
        error: (error as Error).message,
        retryAtMs,
      });
      logger?.warn({ err: error, handler: handler.name, requestId, attempt, dead: last }, 'result handler failed');
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#running) await this.#running;
  }
}
