import type { Socket } from 'node:net';
import pg from 'pg';
import type { InsightsKey, RequestSettledEvent } from '../../types.js';

interface Subscriber {
  /** Settlement hints, or (`insights`) hints of new insight-record versions: one kind per subscriber. */
  listener: ((event: RequestSettledEvent) => void) | null;
  insights: ((key: InsightsKey) => void) | null;
  onResync: (() => void) | undefined;
  /** Hints may have been sent while this subscriber was not covered by a LISTEN: resync it once listening. */
  missed: boolean;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** The longest a ping (or the LISTEN itself) may go unanswered before the connection counts as lost. */
const MAX_PING_TIMEOUT_MS = 5000;

export interface ListenerOptions {
  /**
   * How often the connection is pinged. A flow dropped without FIN or RST (a NAT or load balancer idle
   * timeout) is otherwise noticed only by TCP keepalive, minutes later; a connection that only listens
   * never writes, so nothing else would fail.
   */
  pingIntervalMs: number;
}

/**
 * Settlement hints over LISTEN/NOTIFY, on one dedicated connection (a pooled one would be handed to
 * queries). Settling transactions `pg_notify` the schema's channel; PostgreSQL delivers only committed
 * notifications, to every listening session including this store's own. This store's own settlements are
 * emitted directly after their commit (awaiting code in this process wakes without a round trip), so
 * notifications tagged with its own `ownerTag` are skipped: no listener gets one settlement twice.
 *
 * States: idle (no subscriber, no connection) → connecting (first subscriber) → listening (a `SELECT 1`
 * every `pingIntervalMs`) → reconnecting (the connection dropped, or a ping or the LISTEN went unanswered
 * for min(pingIntervalMs, 5 s): retried with doubling backoff up to 5 s) → listening again, after which
 * every subscriber's `onResync` runs once (hints sent meanwhile are lost; callers re-read what they wait
 * for); any state → idle when the last subscriber leaves; closed (terminal) on `close()`. `resync()` (a
 * settlement of this store may have committed unemitted) resyncs every subscriber once the connection has
 * answered a ping, or on reconnecting if it does not.
 */
export class SettlementListener {
  readonly #subscribers = new Set<Subscriber>();
  #state: 'idle' | 'connecting' | 'listening' | 'reconnecting' | 'closed' = 'idle';
  #client: pg.Client | null = null;
  /** Bumped whenever the current connection is abandoned: events of older ones are ignored. */
  #generation = 0;
  #timer: NodeJS.Timeout | null = null;
  #pinger: NodeJS.Timeout | null = null;
  /** The ping in flight, shared by the periodic one and `resync()`: true when the connection answered. */
  #ping: Promise<boolean> | null = null;
  #backoffMs = MIN_BACKOFF_MS;
  readonly #pingTimeoutMs: number;

  constructor(
    readonly clientConfig: () => pg.ClientConfig,
    readonly channel: string,
    readonly ownerTag: string,
    readonly options: ListenerOptions = { pingIntervalMs: 15_000 },
  ) {
    this.#pingTimeoutMs = Math.min(MAX_PING_TIMEOUT_MS, options.pingIntervalMs);
  }

  subscribe(listener: (event: RequestSettledEvent) => void, onResync?: () => void): () => void {
    return this.#subscribe({ listener, insights: null, onResync, missed: this.#state !== 'listening' });
  }

  subscribeInsights(insights: (key: InsightsKey) => void, onResync?: () => void): () => void {
    return this.#subscribe({ listener: null, insights, onResync, missed: this.#state !== 'listening' });
  }

  #subscribe(subscriber: Subscriber): () => void {
    if (this.#state === 'closed') return () => undefined;
    this.#subscribers.add(subscriber);
    if (this.#state === 'idle') void this.#connect();
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0 && this.#state !== 'closed') this.#stop('idle');
    };
  }

  /** Emits this store's own settlements and new insight versions, right after their commit. */
  emit(events: readonly RequestSettledEvent[], insights: readonly InsightsKey[] = []): void {
    for (const event of events) this.#deliver(event);
    for (const key of insights) this.#deliverInsights(key);
  }

  #deliverInsights(key: InsightsKey): void {
    for (const s of [...this.#subscribers]) {
      try {
        s.insights?.(key);
      } catch {
        // As for settlement listeners: one failing listener does not keep the hint from the others.
      }
    }
  }

  /**
   * A settling transaction of this store failed as unavailable: its COMMIT may have succeeded with the
   * answer lost, so neither the local emit nor (own tag) the NOTIFY reaches anyone. Every subscriber
   * re-reads once, after the LISTEN connection proved it is up (hints sent from then on are heard).
   */
  resync(): void {
    if (this.#state === 'idle' || this.#state === 'closed') return;
    for (const s of this.#subscribers) s.missed = true;
    // connecting / reconnecting: the connection, once listening, resyncs the subscribers marked missed.
    if (this.#state !== 'listening') return;
    void this.#pingNow().then((answered) => {
      if (answered) this.#resyncMissed();
    });
  }

  #deliver(event: RequestSettledEvent): void {
    for (const s of [...this.#subscribers]) {
      try {
        s.listener?.(event);
      } catch {
        // A failing listener must not keep the hint from the others (nor break the connection's parser).
      }
    }
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    if (this.#state !== 'reconnecting') this.#state = 'connecting';
    const client = new pg.Client(this.clientConfig());
    client.on('error', () => this.#dropped(generation, client));
    client.on('end', () => this.#dropped(generation, client));
    client.on('notification', (message) => {
      if (generation === this.#generation) this.#notified(message.payload);
    });
    try {
      await client.connect();
      await this.#answered(client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`));
    } catch {
      this.#dropped(generation, client);
      return;
    }
    if (generation !== this.#generation) {
      void client.end().catch(() => undefined);
      return;
    }
    // Like the SQLite store's unref'd watch: waiting for hints alone does not keep the process alive.
    (client.connection.stream as Partial<Socket>).unref?.();
    this.#client = client;
    this.#state = 'listening';
    this.#backoffMs = MIN_BACKOFF_MS;
    this.#pinger = setInterval(() => void this.#pingNow(), this.options.pingIntervalMs);
    this.#pinger.unref();
    this.#resyncMissed();
  }

  #resyncMissed(): void {
    for (const s of [...this.#subscribers]) {
      if (!s.missed) continue;
      s.missed = false;
      try {
        s.onResync?.();
      } catch {
        // As for listeners: one failing subscriber does not stop the others' resync.
      }
    }
  }

  /** Resolves as `query` does, or rejects once it went unanswered for the ping timeout. */
  async #answered(query: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the LISTEN connection did not answer')), this.#pingTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One round trip on the LISTEN connection; a failure or silence drops it (see `#dropped`). */
  #pingNow(): Promise<boolean> {
    const client = this.#client;
    if (!client || this.#state !== 'listening') return Promise.resolve(false);
    if (this.#ping) return this.#ping;
    const generation = this.#generation;
    const ping = this.#answered(client.query('SELECT 1')).then(
      () => generation === this.#generation,
      () => {
        this.#dropped(generation, client);
        return false;
      },
    );
    this.#ping = ping;
    void ping.finally(() => {
      if (this.#ping === ping) this.#ping = null;
    });
    return ping;
  }

  #notified(payload: string | undefined): void {
    let hint: RequestSettledEvent & { from?: string; insights?: InsightsKey };
    try {
      hint = JSON.parse(payload ?? '') as RequestSettledEvent & { from?: string; insights?: InsightsKey };
    } catch {
      return;
    }
    if (hint.from === this.ownerTag) return;
    if (hint.insights) {
      const { domain, sourceRecordId } = hint.insights;
      this.#deliverInsights({ domain, sourceRecordId });
      return;
    }
    const { requestId, jobId, api, state, deliveryId } = hint;
    this.#deliver({ requestId, jobId, api, state, deliveryId });
  }

  #dropped(generation: number, client: pg.Client): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    this.#client = null;
    this.#stopPinging();
    // With a query in flight (an unanswered ping) end() destroys the socket rather than wait for a goodbye.
    void client.end().catch(() => undefined);
    if (this.#state === 'closed' || this.#subscribers.size === 0) return;
    for (const s of this.#subscribers) s.missed = true;
    this.#state = 'reconnecting';
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, this.#backoffMs);
    this.#timer.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
  }

  #stop(next: 'idle' | 'closed'): void {
    this.#generation++;
    this.#state = next;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopPinging();
    this.#backoffMs = MIN_BACKOFF_MS;
    const client = this.#client;
    this.#client = null;
    if (client) void client.end().catch(() => undefined);
  }

  #stopPinging(): void {
    if (this.#pinger) clearInterval(this.#pinger);
    this.#pinger = null;
    this.#ping = null;
  }

  close(): void {
    this.#subscribers.clear();
    this.#stop('closed');
  }
}
