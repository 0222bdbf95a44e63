import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type { InsightsKey, RequestSettledEvent } from '../../types.js';
import type { NotificationStatements } from './sqlite-notifications.js';
import type { Statements } from './statements.js';

/**
 * Settlement hints for the processes that share one SQLite file. Settlements are numbered in commit order
 * (`settled_seq`, taken under the write lock); this store emits every one after the highest it emitted, its
 * own right after each commit and other processes' when `data_version` says the file changed (polled only
 * while someone listens). Nothing is lost, so a resync is never due here. New versions of ACE insight
 * records are numbered (`insights.seq`) and emitted the same way.
 * States: idle (no listener, no timer) → watching (timer every `intervalMs`) → idle; closed ends it.
 */
export class SettlementWatch {
  readonly #events = new EventEmitter<{ settled: [RequestSettledEvent]; insights: [InsightsKey] }>();
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #notes: NotificationStatements;
  #emittedInsightsSeq: number;
  readonly #intervalMs: number;
  /** Highest `settled_seq` already emitted; settlements made before the store opened are history. */
  #emittedSeq: number;
  #dataVersion: number;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(db: Database.Database, stmt: Statements, notes: NotificationStatements, intervalMs: number) {
    this.#db = db;
    this.#stmt = stmt;
    this.#notes = notes;
    this.#emittedInsightsSeq = notes.maxInsightsSeq.get()!;
    this.#intervalMs = intervalMs;
    this.#emittedSeq = stmt.maxSettledSeq.get()!;
    this.#dataVersion = db.pragma('data_version', { simple: true }) as number;
  }

  /** Emits every settlement committed (by any process) since the last one emitted, in order. */
  emit(): void {
    if (this.#closed) return;
    for (const row of this.#stmt.settledSince.all(this.#emittedSeq)) {
      this.#emittedSeq = row.settled_seq;
      if (row.state === 'pending') continue;
      this.#events.emit('settled', {
        requestId: row.request_id,
        jobId: row.job_id,
        api: row.api,
        state: row.state,
        deliveryId: row.outcome_delivery_id,
      });
    }
    if (this.#events.listenerCount('insights') === 0) return;
    for (const row of this.#notes.insightsSince.all(this.#emittedInsightsSeq)) {
      this.#emittedInsightsSeq = row.seq;
      this.#events.emit('insights', { domain: row.domain, sourceRecordId: row.source_record_id });
    }
  }

  /** While someone listens: notice other processes' commits (`data_version` changes) and emit theirs. */
  #checkForeignCommits(): void {
    if (this.#closed) return;
    const version = this.#db.pragma('data_version', { simple: true }) as number;
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.emit();
  }

  subscribe(listener: (event: RequestSettledEvent) => void): () => void {
    return this.#listen('settled', listener);
  }

  subscribeInsights(listener: (key: InsightsKey) => void): () => void {
    return this.#listen('insights', listener);
  }

  #listen(name: 'settled' | 'insights', listener: (value: never) => void): () => void {
    const on = listener as never;
    // Versions made while nobody listened are history, as settlements before the store opened are.
    if (name === 'insights' && this.#events.listenerCount('insights') === 0) {
      this.#emittedInsightsSeq = this.#notes.maxInsightsSeq.get()!;
    }
    this.#events.on(name, on);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#checkForeignCommits(), this.#intervalMs);
      this.#timer.unref();
    }
    return () => {
      this.#events.off(name, on);
      const listening = this.#events.listenerCount('settled') + this.#events.listenerCount('insights');
      if (listening === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
