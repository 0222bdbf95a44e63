import { RENEWAL_REMINDER_FILTER } from '../ringcentral/notification.js';
import { pino, type Logger } from 'pino';
import type { Keyring } from '../callback/callback-url.js';
import { JobhookError } from '../errors.js';
import type { Platform } from '../ringcentral/platform.js';
import type { SubscriptionStore } from '../store/store.js';
import type { SubscriptionRecord } from '../types.js';
import { backfillWindow, type BackfillBudget, type BackfillStore, type BackfillWindowOptions } from './backfill.js';
import { aceDomainsOf } from './filters.js';
import { keepSubscription, removeDuplicates, type RoundContext } from './keeper-round.js';
import { listSubscriptions, MAX_EXPIRES_IN_S } from './subscription-api.js';

/**
 * The subscription keeper: keeps every subscription of the store alive on the platform, at the address the
 * current public URL gives, repairing what the platform does to them (reference §4–6, §9; issue #12).
 *
 * Keeper states: idle (not started) → standby (another process holds the `subscription-keeper` lease: each
 * round only tries to take it) ⇄ keeping (holds it: each round lists the platform's subscriptions and keeps
 * every stored one, then removes duplicates) → stopping (no round starts; the round in progress finishes,
 * backfills are aborted) → stopped (lease released). Rounds run every `intervalMs` and on `kick()`, one at
 * a time; a failed round or platform call is logged and retried at the next round, never at once.
 *
 * One subscription, within a round (keeper-round.ts): no platform id, `Pending` or `Failed` → create (or
 * adopt the one an interrupted create left; a fresh `Pending` is another process's create in flight) ·
 * missing from the platform's list → `Gone` → create → backfill · not `Active` (blacklisted) → record why →
 * delete → create → backfill · address not the current one (a new tunnel) → create at the new address →
 * delete the old → backfill · expiring within max(10 % of its lifetime, 2 × interval), or a renewal
 * reminder came → renew (404 → `Gone` path) · else checked. Never creates while the platform holds
 * `subscriptionLimit` (30) subscriptions of the user and app: logged as an error, state kept.
 */
export interface KeeperOptions {
  platform: Platform;
  store: SubscriptionStore & BackfillStore;
  keyring: Keyring;
  /** Where RingCentral reaches the receiver now (a tunnel's URL changes at each start). */
  publicUrl: string;
  pathPrefix: string;
  /** @defaultValue 60_000 */
  intervalMs?: number;
  /** The store lease; another process takes over this long after this one stopped renewing it. @defaultValue 3 × intervalMs */
  leaseMs?: number;
  /** The platform's per-user-and-app limit (reference §9). @defaultValue 30 */
  subscriptionLimit?: number;
  /** `expiresIn` is clamped to this. @defaultValue 315_360_000 (10 years) */
  maxExpiresInS?: number;
  /** A `Pending` record younger than this is another process's create in flight. @defaultValue 120_000 */
  pendingGraceMs?: number;
  /** Reads back what a re-created subscription missed; null: none. @defaultValue backfillWindow */
  backfill?: ((options: BackfillWindowOptions) => Promise<{ records: number; stored: number }>) | null;
  /** The backfill's rate budget (null: none, a local emulator). @defaultValue RingCentral's defaults */
  backfillBudget?: BackfillBudget | null;
  /** Called after a backfill stored records (serve: let the indexer run now). */
  onBackfilled?: () => void;
  /** @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue silent */
  logger?: Logger;
}

export type KeeperState = 'idle' | 'standby' | 'keeping' | 'stopping' | 'stopped';

export const KEEPER_LEASE = 'subscription-keeper';
/**
 * The events of the renewal-reminder filter (`/restapi/v1.0/subscription/~?threshold=…&interval=…`, reference
 * §5), as a handler filter: `~` matches the resolved id and the event's parameters are extra. Feed their
 * `subscriptionId` to `onReminder`.
 */
export const REMINDER_EVENT_FILTER = RENEWAL_REMINDER_FILTER;
/** How far before the last sign of life a backfill starts: events are stamped before they arrive. */
export const BACKFILL_MARGIN_MS = 5 * 60_000;

export class SubscriptionKeeper {
  readonly #o: Required<Omit<KeeperOptions, 'backfill' | 'backfillBudget' | 'onBackfilled'>> &
    Pick<KeeperOptions, 'backfill' | 'backfillBudget' | 'onBackfilled'>;
  #state: KeeperState = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  readonly #backfills = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #granted = new Map<string, number>();
  readonly #renewNow = new Set<string>();
  readonly #forced = new Set<string>();
  readonly #failures = new Map<string, Error>();
  /** What the store last said about the lease (a round in flight during stop() may have taken it). */
  #leaseHeld = false;
  /** This process just took the lease (its start, or a takeover): the first round backfills the gap. */
  #tookOver = false;

  constructor(options: KeeperOptions) {
    const intervalMs = options.intervalMs ?? 60_000;
    this.#o = {
      ...options,
      intervalMs,
      leaseMs: options.leaseMs ?? 3 * intervalMs,
      subscriptionLimit: options.subscriptionLimit ?? 30,
      maxExpiresInS: options.maxExpiresInS ?? MAX_EXPIRES_IN_S,
      pendingGraceMs: options.pendingGraceMs ?? 120_000,
      now: options.now ?? Date.now,
      logger: (options.logger ?? pino({ level: 'silent' })).child({ component: 'subscription-keeper' }),
      backfill: options.backfill === undefined ? backfillWindow : options.backfill,
    };
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** Starts the rounds; the first runs at once (it moves every subscription when the public URL changed). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'standby';
    void this.kick();
  }

  /** Runs a round now, or right after the one in progress; resolves when it ended. Starts an idle keeper. */
  kick(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.resolve();
    if (this.#state === 'idle') this.#state = 'standby';
    if (this.#running) {
      this.#queued ??= this.#running.then(() => {
        this.#queued = null;
        return this.#run();
      });
      return this.#queued;
    }
    return this.#run();
  }

  /** A renewal-reminder event for `subscriptionId` (the platform id) arrived: renew it in a round now. */
  onReminder(subscriptionId: string): Promise<void> {
    this.#renewNow.add(subscriptionId);
    return this.kick();
  }

  /**
   * Re-creates the named subscription (a new one first, then the old one deleted), as the inspector's
   * button asks. Marked `Pending` in the store first: when another process holds the lease, its next round
   * does it. Rejects with the platform's refusal when this process tried and failed.
   */
  async recreate(name: string): Promise<void> {
    const record = await this.#o.store.findSubscription(name);
    if (record?.name !== name) throw new JobhookError('JH_ERR_NOT_FOUND', `no subscription named ${name}`);
    await this.#o.store.saveSubscription({ ...record, status: 'Pending', lastError: null });
    this.#forced.add(name);
    this.#failures.delete(name);
    await this.kick();
    const failure = this.#failures.get(name);
    if (failure) throw failure;
    const after = await this.#o.store.findSubscription(name);
    if (this.#state === 'keeping' && after && after.status !== 'Active' && after.lastError) {
      throw keeperFailure(after);
    }
  }

  /** Stops the rounds: waits for the one in progress, aborts and awaits backfills, releases the lease. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    clearTimeout(this.#timer);
    await this.#queued;
    await this.#running;
    this.#abort.abort(new JobhookError('JH_ERR_STORE_CLOSED', 'the subscription keeper stopped'));
    await Promise.allSettled([...this.#backfills]);
    if (this.#leaseHeld) {
      try {
        await this.#o.store.releaseLease(KEEPER_LEASE);
      } catch (error) {
        this.#o.logger.warn({ err: error }, 'could not release the keeper lease; it expires by itself');
      }
    }
    this.#state = 'stopped';
  }

  #run(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.resolve();
    clearTimeout(this.#timer);
    const round = this.#round().catch((error: unknown) => {
      this.#o.logger.error({ err: error }, 'subscription keeper round failed; next round in the interval');
    });
    this.#running = round;
    void round.then(() => {
      if (this.#running === round) this.#running = null;
      this.#schedule();
    });
    return round;
  }

  #schedule(): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#running || this.#queued) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.kick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async #hold(): Promise<boolean> {
    const held = await this.#o.store.holdLease(KEEPER_LEASE, this.#o.leaseMs);
    this.#leaseHeld = held;
    const log = this.#o.logger;
    if (!held) {
      if (this.#state === 'keeping') log.info('another instance now keeps the subscriptions (it holds the lease)');
      if (this.#state === 'keeping' || this.#state === 'standby') this.#state = 'standby';
      return false;
    }
    if (this.#state === 'standby') {
      this.#state = 'keeping';
      this.#tookOver = true;
      log.info({ publicUrl: this.#o.publicUrl }, 'this instance keeps the subscriptions (it holds the lease)');
    }
    return this.#state === 'keeping';
  }

  async #round(): Promise<void> {
    const o = this.#o;
    if (!(await this.#hold())) return;
    const records = await o.store.listSubscriptions();
    // Nothing kept: nothing to list (duplicates are only removed for a kept subscription's request).
    if (records.length === 0) return;
    const list = await listSubscriptions(o.platform);
    const backfilled = new Set<string>();
    const ctx: RoundContext = {
      platform: o.platform,
      store: o.store,
      keyring: o.keyring,
      publicUrl: o.publicUrl,
      pathPrefix: o.pathPrefix,
      logger: o.logger,
      nowMs: o.now(),
      intervalMs: o.intervalMs,
      subscriptionLimit: o.subscriptionLimit,
      maxExpiresInS: o.maxExpiresInS,
      pendingGraceMs: o.pendingGraceMs,
      list,
      count: list.length,
      deleted: new Set(),
      granted: this.#granted,
      renewNow: this.#renewNow,
      forced: this.#forced,
      backfill: (record, reason) => {
        backfilled.add(record.name);
        this.#startBackfill(record, reason);
      },
    };
    for (const record of records) {
      // A long round (many re-creations, each a handshake) keeps its lease, or stops when it lost it.
      if (!(await this.#hold())) return;
      try {
        await keepSubscription(ctx, record);
        this.#failures.delete(record.name);
      } catch (error) {
        this.#failures.set(record.name, error instanceof Error ? error : new Error(String(error)));
      }
    }
    await removeDuplicates(ctx);
    if (this.#tookOver) {
      this.#tookOver = false;
      // Events the platform sent while no receiver answered (a restart, a crash before a takeover) are lost
      // after its few retries, well before it blacklists anything: read back the gap of every subscription
      // that was delivering, from its last event (a record's version older than an hour is taken as final).
      for (const record of records) {
        if (backfilled.has(record.name) || record.status !== 'Active' || record.lastEventAt === null) continue;
        this.#startBackfill(record, 'this process took the subscriptions over: events may have been missed');
      }
    }
  }

  /**
   * Reads back, in the background, what the subscription missed: its ACE domains, from its last event (or
   * the keeper's last check, or its creation) minus a margin, until now. Aborted by `stop()`.
   */
  #startBackfill(record: SubscriptionRecord, reason: string): void {
    const run = this.#o.backfill;
    const domains = aceDomainsOf(record.eventFilters);
    if (!run || domains.length === 0) return;
    const lastSign = Date.parse(record.lastEventAt ?? record.checkedAt ?? record.createdAt);
    const toMs = this.#o.now();
    const fromMs = (Number.isFinite(lastSign) ? lastSign : toMs) - BACKFILL_MARGIN_MS;
    const log = this.#o.logger.child({ subscription: record.name, platformId: record.platformId });
    log.info({ reason, domains, from: new Date(fromMs).toISOString() }, 'backfilling what the subscription missed');
    const task = run({
      platform: this.#o.platform,
      store: this.#o.store,
      domains,
      fromMs,
      toMs,
      signal: this.#abort.signal,
      logger: log,
      ...(this.#o.backfillBudget === undefined ? {} : { budget: this.#o.backfillBudget }),
    }).then(
      (report) => {
        log.info({ records: report.records, stored: report.stored }, 'backfill done');
        if (report.stored > 0) this.#o.onBackfilled?.();
      },
      (error: unknown) => {
        if (!this.#abort.signal.aborted)
          log.warn({ err: error }, 'backfill failed; read records back by id with jobhook insights');
      },
    );
    this.#backfills.add(task);
    void task.finally(() => this.#backfills.delete(task));
  }
}

/** The error a round saved for a subscription, as thrown to `recreate()` callers. */
function keeperFailure(record: SubscriptionRecord): JobhookError {
  return new JobhookError('JH_ERR_PLATFORM_UNREACHABLE', record.lastError ?? 'not re-created');
}
