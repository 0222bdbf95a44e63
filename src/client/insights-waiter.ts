import { isJobhookError, JobhookError } from '../errors.js';
import { insightsOfStoredBody, type AceRecordingInsights } from '../ringcentral/ace.js';
import type { StoreReader } from '../store/store.js';
import type { InsightsKey, InsightsRecord } from '../types.js';

/** What `awaitInsights` reads: the record and the delivery holding its newest version. */
export type InsightsReader = Pick<StoreReader, 'findInsights' | 'getDelivery' | 'onInsights' | 'listInsights'>;

export interface AwaitInsightsOptions {
  /** Give up waiting after this long (JH_ERR_TIMEOUT); a later call still resolves. No limit when omitted. */
  timeoutMs?: number;
  /** Stops waiting when aborted: rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How often the store's most recently updated records are read, whatever the hints say: the safety net
   * under a lost hint. One read per period for all the waiters on a store (the shortest period asked for
   * wins), and the only read an idle waiter causes. @defaultValue 5000
   */
  safetyPollMs?: number;
}

/** An ACE insight record as stored, and its newest version parsed (`parseAceInsights`). */
export interface AwaitedInsights {
  record: InsightsRecord;
  insights: AceRecordingInsights;
}

/**
 * Resolves with the insight record `(domain, sourceRecordId)` from the store as soon as one exists, whether
 * it came by webhook or was read back by a backfill: both are stored deliveries that the indexer turned
 * into the record. Resolves at once when it is there already (the newest version so far: a pbx call with
 * AI Notes may get a fuller one later, which `onInsights` handlers see).
 *
 * Waiting costs one small entry per waiter behind one `store.onInsights` subscription and one safety poll
 * per store (both made while someone waits); a hint for the key, a resync, or the poll finding the key
 * among the recently updated records re-reads it. The database away for a while (JH_ERR_STORE_UNAVAILABLE)
 * is waited out; any other store error rejects.
 *
 * @example
 * const { record, insights } = await awaitInsights(store, { domain: 'pbx', sourceRecordId }, { timeoutMs: 60_000 });
 * console.log(record.title, insights.insights.Summary?.[0]?.value);
 */
export function awaitInsights(
  store: InsightsReader,
  key: InsightsKey,
  options: AwaitInsightsOptions = {},
): Promise<AwaitedInsights> {
  return new Promise<AwaitedInsights>((resolve, reject) => {
    // States: checking (a read in flight; a wake meanwhile asks for one more read) → idle (waiting for a
    // hint, the poll, or a retry after an outage) → finished (resolved, rejected, timed out or aborted:
    // every timer and the subscription released).
    let finished = false;
    let checking = false;
    let again = false;
    let retry: NodeJS.Timeout | null = null;
    let retryMs = 1000;
    const finish = (settle: () => void): void => {
      if (finished) return;
      finished = true;
      stopWaiting();
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = (): void =>
      finish(() =>
        reject(
          options.signal!.reason instanceof Error ? options.signal!.reason : new Error('stopped waiting: aborted'),
        ),
      );
    const check = (): void => {
      if (finished) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      readInsights(store, key).then(
        (found) => {
          checking = false;
          if (found) return finish(() => resolve(found));
          if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) => {
          checking = false;
          again = false;
          if (isJobhookError(error, 'JH_ERR_STORE_UNAVAILABLE')) {
            // Keep waiting; read again later, as a hint that came meanwhile may be spent.
            if (!finished && !retry) {
              retry = setTimeout(() => {
                retry = null;
                check();
              }, retryMs);
              retryMs = Math.min(30_000, retryMs * 2);
            }
            return;
          }
          finish(() => reject(error instanceof Error ? error : new Error(String(error))));
        },
      );
    };
    // Registered before the first read, so a version landing in between is not missed.
    const stopWaiting = hintsFor(store).add(key, check, options.safetyPollMs ?? DEFAULT_SAFETY_POLL_MS);
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(
            () =>
              finish(() =>
                reject(
                  new JobhookError(
                    'JH_ERR_TIMEOUT',
                    `no ACE insights for ${key.domain} ${key.sourceRecordId} within ${options.timeoutMs} ms`,
                  ),
                ),
              ),
            options.timeoutMs,
          );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** The record and its newest version parsed, or null when there is no record yet. */
export async function readInsights(store: InsightsReader, key: InsightsKey): Promise<AwaitedInsights | null> {
  const record = await store.findInsights(key);
  if (!record) return null;
  const delivery = await store.getDelivery(record.deliveryId);
  if (!delivery) {
    throw new JobhookError('JH_ERR_NOT_FOUND', `the delivery ${record.deliveryId} of an insight record is gone`);
  }
  return { record, insights: insightsOfBody(delivery.body) };
}

/** See `insightsOfStoredBody` (src/ringcentral/ace.ts). */
export const insightsOfBody = insightsOfStoredBody;

const DEFAULT_SAFETY_POLL_MS = 5000;
/** Records the safety poll reads, most recently updated first. */
const POLL_LIMIT = 200;
/** Writers' clocks may differ this much (SQLite files shared by processes, PostgreSQL's own clock). */
const CLOCK_SLACK_MS = 60_000;

/**
 * Waiters by key behind one store subscription and one safety poll per store, kept only while someone
 * waits. The poll reads the `POLL_LIMIT` most recently updated records and wakes the waiters of those
 * keys; when they are all newer than what the previous poll saw (minus a clock slack), some update may be
 * beyond them, and every waiter re-reads. States: idle (no waiter: no subscription, no timer) → waiting
 * (subscription and poll timer; the timer restarts when a waiter asks for a shorter period) → idle.
 */
class InsightsHints {
  readonly #byKey = new Map<string, Set<() => void>>();
  readonly #store: InsightsReader;
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pollMs = Infinity;
  #polling = false;
  /** The newest `updatedAt` the previous poll saw (ms); null before the first. */
  #seenUpToMs: number | null = null;

  constructor(store: InsightsReader) {
    this.#store = store;
  }

  add(key: InsightsKey, wake: () => void, pollMs: number): () => void {
    this.#unsubscribe ??= this.#store.onInsights(
      (hint) => this.#wake(idOf(hint)),
      // Hints were lost (the store's connection dropped): every waiter re-reads its record.
      () => this.#wakeAll(),
    );
    if (pollMs < this.#pollMs) {
      this.#pollMs = pollMs;
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = setInterval(() => void this.#poll(), pollMs);
    }
    const id = idOf(key);
    let set = this.#byKey.get(id);
    if (!set) this.#byKey.set(id, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.#byKey.delete(id);
      if (this.#byKey.size > 0) return;
      this.#unsubscribe?.();
      this.#unsubscribe = null;
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      this.#pollMs = Infinity;
      this.#seenUpToMs = null;
    };
  }

  #wake(id: string): void {
    for (const fn of [...(this.#byKey.get(id) ?? [])]) fn();
  }

  #wakeAll(): void {
    for (const set of [...this.#byKey.values()]) for (const fn of [...set]) fn();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const recent = await this.#store.listInsights({ limit: POLL_LIMIT });
      for (const record of recent) this.#wake(idOf(record));
      const times = recent.map((r) => Date.parse(r.updatedAt)).filter((t) => !Number.isNaN(t));
      const oldest = Math.min(...times);
      const seen = this.#seenUpToMs;
      if (recent.length >= POLL_LIMIT && (seen === null || oldest > seen - CLOCK_SLACK_MS)) this.#wakeAll();
      if (times.length > 0) this.#seenUpToMs = Math.max(seen ?? -Infinity, ...times);
    } catch {
      // The database is away: the next period reads again (waiters' own reads wait it out too).
    } finally {
      this.#polling = false;
    }
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byKey.values()) n += set.size;
    return n;
  }
}

const idOf = (key: InsightsKey): string => JSON.stringify([key.domain, key.sourceRecordId]);

const hints = new WeakMap<InsightsReader, InsightsHints>();

function hintsFor(store: InsightsReader): InsightsHints {
  let found = hints.get(store);
  if (!found) hints.set(store, (found = new InsightsHints(store)));
  return found;
}

/** How many `awaitInsights` calls wait on `store` now (for tests and diagnostics). */
export function pendingInsightsWaiters(store: InsightsReader): number {
  return hints.get(store)?.size ?? 0;
}
