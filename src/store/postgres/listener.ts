import type { Socket } from 'node:net';
import pg from 'pg';
import type { RequestSettledEvent } from '../../types.js';

interface Subscriber {
  listener: (event: RequestSettledEvent) => void;
  onResync: (() => void) | undefined;
  /** Hints may have been sent while this subscriber was not covered by a LISTEN: resync it once listening. */
  missed: boolean;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/**
 * Settlement hints over LISTEN/NOTIFY, on one dedicated connection (a pooled one would be handed to
 * queries). Settling transactions `pg_notify` the schema's channel; PostgreSQL delivers only committed
 * notifications, to every listening session including this store's own. This store's own settlements are
 * emitted directly after their commit (awaiting code in this process wakes without a round trip), so
 * notifications tagged with its own `ownerTag` are skipped: no listener gets one settlement twice.
 *
 * States: idle (no subscriber, no connection) → connecting (first subscriber) → listening → reconnecting
 * (the connection dropped: retried with doubling backoff up to 5 s) → listening again, after which every
 * subscriber's `onResync` runs once (hints sent meanwhile are lost; callers re-read what they wait for);
 * any state → idle when the last subscriber leaves; closed (terminal) on `close()`.
 */
export class SettlementListener {
  readonly #subscribers = new Set<Subscriber>();
  #state: 'idle' | 'connecting' | 'listening' | 'reconnecting' | 'closed' = 'idle';
  #client: pg.Client | null = null;
  /** Bumped whenever the current connection is abandoned: events of older ones are ignored. */
  #generation = 0;
  #timer: NodeJS.Timeout | null = null;
  #backoffMs = MIN_BACKOFF_MS;

  constructor(
    readonly clientConfig: () => pg.ClientConfig,
    readonly channel: string,
    readonly ownerTag: string,
  ) {}

  subscribe(listener: (event: RequestSettledEvent) => void, onResync?: () => void): () => void {
    const subscriber: Subscriber = { listener, onResync, missed: this.#state !== 'listening' };
    if (this.#state === 'closed') return () => undefined;
    this.#subscribers.add(subscriber);
    if (this.#state === 'idle') void this.#connect();
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0 && this.#state !== 'closed') this.#stop('idle');
    };
  }

  /** Emits this store's own settlements, right after their commit. */
  emit(events: readonly RequestSettledEvent[]): void {
    for (const event of events) this.#deliver(event);
  }

  #deliver(event: RequestSettledEvent): void {
    for (const s of [...this.#subscribers]) {
      try {
        s.listener(event);
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
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
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

  #notified(payload: string | undefined): void {
    let hint: RequestSettledEvent & { from?: string };
    try {
      hint = JSON.parse(payload ?? '') as RequestSettledEvent & { from?: string };
    } catch {
      return;
    }
    if (hint.from === this.ownerTag) return;
    const { requestId, jobId, api, state, deliveryId } = hint;
    this.#deliver({ requestId, jobId, api, state, deliveryId });
  }

  #dropped(generation: number, client: pg.Client): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    this.#client = null;
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
    this.#backoffMs = MIN_BACKOFF_MS;
    const client = this.#client;
    this.#client = null;
    if (client) void client.end().catch(() => undefined);
  }

  close(): void {
    this.#subscribers.clear();
    this.#stop('closed');
  }
}
