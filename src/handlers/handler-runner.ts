import type { Logger } from 'pino';
import { isJobhookError, JobhookError } from '../errors.js';
import type { HandlerQueue, RunOutcome, StoreReader } from '../store/store.js';
import type { HandlerRun } from '../types.js';
import { EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX } from '../types.js';
import { insightsVersionMs } from '../ringcentral/notification.js';
import {
  eventInput,
  insightsInput,
  insightsRunKey,
  resultInput,
  type AnyHandlerInput,
  type EventHandlerInput,
  type HandlerInput,
  type InsightsHandlerInput,
} from './handler-inputs.js';

export type { AnyHandlerInput, EventHandlerInput, HandlerInput, InsightsHandlerInput } from './handler-inputs.js';

export type ResultHandler = (input: HandlerInput) => unknown;
export type EventHandler = (input: EventHandlerInput) => unknown;
export type InsightsHandler = (input: InsightsHandlerInput) => unknown;

export interface HandlerRunnerOptions {
  /** The queue and the reads a run needs: nothing else of the store. */
  store: HandlerQueue & StoreReader;
  /** Attempts before a run is dead-lettered. @defaultValue 5 */
  maxAttempts?: number;
  /** Wait before the second attempt, doubling after each. @defaultValue 1000 */
  backoffMs?: number;
  /** A run not finished within this is taken to have crashed and runs again. @defaultValue 60000 */
  leaseMs?: number;
  /** How often due runs (retries, other processes' settlements) are looked for. @defaultValue 1000 */
  pollMs?: number;
  /** Runs executed at once by this runner, across its handlers; one slow run holds only its own slot. @defaultValue 8 */
  concurrency?: number;
  logger?: Logger;
}

export interface HandlerStopOptions {
  /** How long runs in flight may take to finish before they are aborted and left to their leases. @defaultValue 10000 */
  graceMs?: number;
}

/** A run that `stop()` left unfinished: its lease expires and it is claimed again (here after a restart, or elsewhere). */
export interface AbandonedRun {
  handler: string;
  requestId: string;
  attempt: number;
}

interface Registered {
  name: string;
  /** An AI API path (null: every one), or an event/insights topic (see `EVENT_TOPIC_PREFIX`). */
  api: string | null;
  fn: (input: never) => unknown;
}

interface InFlight extends AbandonedRun {
  done: Promise<void>;
}

/**
 * Runs result handlers from the store's durable queue: at least once per terminal result, even across
 * crashes (a run's lease expires and it is claimed again), with backoff between failed attempts and a
 * dead-letter state after the last. Handlers should be idempotent on `requestId`.
 *
 * States: idle (nothing registered) → running (a timer and the store's settle events kick passes; a pass
 * claims as many due runs as there are free slots and starts each at once, so a hanging run holds one slot,
 * not the queue) → stopping (`stop()`: no claim and no attempt starts any more; runs in flight get `graceMs`)
 * → stopped (stragglers aborted through their signal and never completed here: the store keeps them leased,
 * and the lease decides who runs them next). A run is claimed with a lease longer than any sane attempt; a
 * run whose lease ran out while still in flight here is not started twice.
 */
export class HandlerRunner {
  readonly #opts: Required<Omit<HandlerRunnerOptions, 'logger'>> & { logger?: Logger };
  readonly #handlers: Registered[] = [];
  readonly #inFlight = new Map<string, InFlight>();
  /** Aborted when stop()'s grace runs out; every attempt's signal. */
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #pass: Promise<void> | null = null;
  #again = false;
  #stopping: Promise<AbandonedRun[]> | null = null;

  constructor(options: HandlerRunnerOptions) {
    this.#opts = { maxAttempts: 5, backoffMs: 1000, leaseMs: 60_000, pollMs: 1000, concurrency: 8, ...options };
    if (!(this.#opts.concurrency >= 1)) {
      throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `concurrency must be at least 1, not ${options.concurrency}`);
    }
  }

  /** Registers a result handler by name for job results of `api` (null: every api). */
  register(name: string, api: string | null, fn: ResultHandler): Promise<void> {
    return this.#add(name, api, fn);
  }

  /** Registers an event handler for push notifications whose `event` matches `filter` (`*`: every one). */
  registerEvents(name: string, filter: string, fn: EventHandler): Promise<void> {
    return this.#add(name, `${EVENT_TOPIC_PREFIX}${filter}`, fn);
  }

  /** Registers an insights handler for new versions of ACE insight records of `domain` (`*`: every one). */
  registerInsights(name: string, domain: string, fn: InsightsHandler): Promise<void> {
    return this.#add(name, `${INSIGHTS_TOPIC_PREFIX}${domain}`, fn);
  }

  async #add(name: string, api: string | null, fn: ResultHandler | EventHandler | InsightsHandler): Promise<void> {
    if (this.#handlers.some((h) => h.name === name)) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `a handler named ${name} is already registered; pass a distinct name`,
      );
    }
    await this.#opts.store.registerHandler(name, api);
    this.#handlers.push({ name, api, fn: fn });
    this.#start();
    this.kick();
  }

  #start(): void {
    if (this.#timer || this.#stopping) return;
    // A lost hint (a dropped connection to PostgreSQL) is caught up by a pass at once, as by the poll.
    this.#unsubscribe = this.#opts.store.onSettled(
      () => this.kick(),
      () => this.kick(),
    );
    this.#timer = setInterval(() => this.kick(), this.#opts.pollMs);
    this.#timer.unref();
  }

  /** Runs currently executing. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Looks for due runs now (coalesced with a pass in progress); does nothing once stop() was called. */
  kick(): void {
    if (this.#stopping) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.#claimAndStart()
      .catch((error: unknown) => this.#opts.logger?.error({ err: error }, 'handler queue pass failed'))
      .finally(() => {
        this.#pass = null;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  // A method, not the field, where the check follows an await (the field's narrowing would survive it).
  #stopped(): boolean {
    return this.#stopping !== null;
  }

  /** Fills the free slots with due runs; each run's end kicks the next pass. */
  async #claimAndStart(): Promise<void> {
    const { store, leaseMs, concurrency } = this.#opts;
    for (let progress = true; progress;) {
      progress = false;
      for (const handler of this.#handlers) {
        const free = concurrency - this.#inFlight.size;
        // The store's claim is synchronous under its async face, so no stop() slips in between this
        // check and the claim; one that comes during the await leaves the claimed runs leased, unstarted.
        if (free <= 0 || this.#stopping) return;
        const runs = await store.claimHandlerRuns(handler.name, leaseMs, free);
        for (const run of runs) {
          if (this.#stopped()) {
            this.#opts.logger?.info(
              { handler: handler.name, requestId: run.requestId },
              'handler run claimed as the runner stopped; left to its lease',
            );
            continue;
          }
          const key = `${handler.name}\u0000${run.eventKey}`;
          if (this.#inFlight.has(key)) continue; // its lease ran out while it still runs here
          progress = true;
          const done = this.#execute(handler, run).finally(() => {
            this.#inFlight.delete(key);
            this.kick();
          });
          this.#inFlight.set(key, { handler: handler.name, requestId: run.requestId, attempt: run.attempts, done });
        }
      }
    }
  }

  async #execute(handler: Registered, run: HandlerRun): Promise<void> {
    const { store, logger } = this.#opts;
    const { requestId, attempts: attempt } = run;
    const signal = this.#abort.signal;
    const complete = (outcome: RunOutcome): Promise<void> =>
      store.completeHandlerRun(run, outcome).catch((err: unknown) => {
        // Another process took the run over after this lease ran out: the run is its now, not an error here.
        if (isJobhookError(err, 'JH_ERR_LEASE_LOST')) {
          logger?.warn(
            { handler: handler.name, requestId },
            'handler run outlived its lease; another process owns it now',
          );
        } else logger?.error({ err, handler: handler.name, requestId }, 'handler run not recorded');
      });
    try {
      const input = await this.#inputOf(handler, run, attempt, signal);
      if (typeof input === 'string') return await complete({ ok: false, error: input, retryInMs: null });
      if ('superseded' in input) {
        logger?.info({ handler: handler.name, eventKey: run.eventKey }, input.superseded);
        return await complete({ ok: true });
      }
      await handler.fn(input as never);
      if (signal.aborted) return; // abandoned: the store may be closing, and the lease decides
      await complete({ ok: true });
    } catch (error) {
      if (signal.aborted) return;
      const last = attempt >= this.#opts.maxAttempts;
      const retryInMs = last ? null : this.#opts.backoffMs * 2 ** (attempt - 1);
      await complete({ ok: false, error: describeFailure(error), retryInMs });
      logger?.warn({ err: error, handler: handler.name, requestId, attempt, dead: last }, 'result handler failed');
    }
  }

  /**
   * The input of a run, by its event: a settlement, a push event or an insights version. A string is why
   * it cannot run (dead-lettered with that reason); a missing row throws (retried: it may be a read that
   * the database did not answer).
   */
  async #inputOf(
    handler: Registered,
    run: HandlerRun,
    attempt: number,
    signal: AbortSignal,
  ): Promise<AnyHandlerInput | { superseded: string } | string> {
    const { store } = this.#opts;
    const common = { eventKey: run.eventKey, attempt, signal };
    const topic = handler.api ?? '';
    if (run.eventKey.startsWith('event:') || run.eventKey.startsWith('insights:')) {
      const isEvent = run.eventKey.startsWith('event:');
      if (!topic.startsWith(isEvent ? EVENT_TOPIC_PREFIX : INSIGHTS_TOPIC_PREFIX)) {
        return `not run: handler ${handler.name} is now registered for ${topic || 'every job result'}, and this run is a ${isEvent ? 'push event' : 'new insights version'}`;
      }
      const delivery = run.deliveryId !== null ? await store.getDelivery(run.deliveryId) : undefined;
      if (!delivery) throw new JobhookError('JH_ERR_NOT_FOUND', `the delivery of ${run.eventKey} is missing`);
      if (isEvent) {
        const uuid = run.eventKey.slice('event:'.length);
        const [event] = await store.listEvents({ uuid, limit: 1 });
        if (!event) throw new JobhookError('JH_ERR_NOT_FOUND', `the event ${uuid} is missing`);
        return eventInput(delivery, event, common);
      }
      const key = insightsRunKey(run.eventKey);
      if (!key) return `not run: ${run.eventKey} is no insights version`;
      // An older version whose attempt failed, retried after a newer one: the handler has, or will have,
      // the newer one; handing it this one last would leave the older insights downstream.
      const current = await store.findInsights(key);
      if (current && insightsVersionMs(current.lastModifiedTime) > key.versionMs) {
        return { superseded: `not run: a newer version of ${key.domain}/${key.sourceRecordId} was stored` };
      }
      return insightsInput(delivery, key, common);
    }
    const { requestId } = run;
    const request = await store.findRequest(requestId);
    const deliveryId = run.deliveryId ?? request?.outcomeDeliveryId ?? null;
    const delivery = deliveryId !== null ? await store.getDelivery(deliveryId) : undefined;
    if (!request || !delivery) {
      throw new JobhookError('JH_ERR_NOT_FOUND', `request ${requestId} has no deciding delivery to hand over`);
    }
    // Runs are created for the api a handler was registered with when the request settled. A handler
    // registered since under another api (a new version of the app, or a run carried over from schema 3)
    // does not run it, and does not drop it silently either: dead-lettered, with the reason.
    if (handler.api !== null && request.api !== handler.api) {
      return `not run: handler ${handler.name} is now registered for ${handler.api}, and this result is of ${request.api ?? 'an unknown api'} (created under an earlier registration)`;
    }
    return resultInput(request, delivery, common);
  }

  /**
   * Stops at once claiming runs and starting attempts (timer, settle events and the pass in progress), waits
   * up to `graceMs` for the runs in flight, then aborts the rest and returns them, uncompleted: their leases
   * expire and they run again (at least once). Calling it again returns the same answer.
   */
  stop(options: HandlerStopOptions = {}): Promise<AbandonedRun[]> {
    this.#stopping ??= this.#stop(options.graceMs ?? 10_000);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<AbandonedRun[]> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    // The pass in progress may still add runs it claimed before stop() to #inFlight: wait for it first.
    const finished = (async () => {
      await this.#pass;
      await Promise.all([...this.#inFlight.values()].map((run) => run.done));
      return 'done' as const;
    })();
    const outcome = await Promise.race([finished, graceOver]);
    clearTimeout(timer);
    if (outcome === 'done') return [];
    const abandoned = [...this.#inFlight.values()].map(({ handler, requestId, attempt }) => ({
      handler,
      requestId,
      attempt,
    }));
    this.#abort.abort();
    this.#opts.logger?.warn(
      { abandoned, graceMs },
      'handler runs still in flight at the end of the grace period were aborted; their leases decide who reruns them',
    );
    return abandoned;
  }
}

/**
 * The stored reason of a failed run. fetch's own message is only "fetch failed"; the reason a forward target
 * was unreachable (ECONNREFUSED, a timeout…) is in its cause, so the cause is kept too.
 */
function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : null;
  return cause && !message.includes(cause) ? `${message}: ${cause}` : message;
}
