import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';
import type {
  DeliveryRecord,
  IncomingDelivery,
  ParseOutcome,
  RecordedDelivery,
  RequestRecord,
  RequestSettledEvent,
} from '../../types.js';
import type { NewRequest, RequestQuery, Store } from '../store.js';
import { migrate } from './migrate.js';
import { toDeliveryRecord, toRequestRecord, type DeliveryRow, type RequestRow } from './rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /**
   * How long a write waits for another process's lock before the store reports itself unavailable.
   * better-sqlite3 waits synchronously, so this also bounds how long the event loop can stall.
   * @defaultValue 1000
   */
  busyTimeoutMs?: number;
}

const SECRETS_KEY = 'callback_secrets';
const DELIVERY_COLUMNS = `d.*, e.parse_state, e.parse_error, e.job_id, e.api, e.status, e.creation_time,
  e.completion_time, e.expiration_time`;
const REQUEST_COLUMNS = `r.*, (SELECT COALESCE(SUM(d.count), 0) FROM deliveries d WHERE d.request_id = r.request_id) AS delivery_count`;

/**
 * SQLite implementation of the Store: one file in WAL mode with `synchronous = FULL`, so every commit is
 * fsync'd before it returns. Writes are synchronous (better-sqlite3); the receiver's group commit keeps
 * them to one transaction per burst.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #events = new EventEmitter<{ settled: [RequestSettledEvent] }>();
  readonly #stmt;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    try {
      this.#db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 1000 });
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      migrate(this.#db);
    } catch (error) {
      if (error instanceof JobhookError) throw error;
      throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot open SQLite store at ${options.path}`, {
        cause: error,
      });
    }
    const db = this.#db;
    this.#stmt = {
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      putSetting: db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insertRequest: db.prepare(
        `INSERT INTO requests (request_id, kind, api, callback_url, request_body, created_at, updated_at)
         VALUES (@requestId, @kind, @api, @callbackUrl, @requestBody, @createdAt, @createdAt)`,
      ),
      ensureRequest: db.prepare(
        `INSERT INTO requests (request_id, kind, created_at, updated_at) VALUES (?, 'job', ?, ?)
         ON CONFLICT (request_id) DO NOTHING`,
      ),
      insertPendingEnvelope: db.prepare('INSERT INTO envelopes (delivery_id) VALUES (?)'),
      upsertDelivery: db.prepare<unknown[], { delivery_id: number; count: number }>(
        `INSERT INTO deliveries (request_id, source, body, body_sha256, raw_headers, first_received_at, last_received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (request_id, source, body_sha256)
         DO UPDATE SET count = count + 1, last_received_at = excluded.last_received_at
         RETURNING delivery_id, count`,
      ),
      unparsed: db.prepare<[number], DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM envelopes e JOIN deliveries d USING (delivery_id)
         WHERE e.parse_state = 'pending' ORDER BY e.delivery_id LIMIT ?`,
      ),
      markParsed: db.prepare(
        `UPDATE envelopes SET parse_state = 'parsed', parse_error = NULL, job_id = ?, api = ?, status = ?,
           creation_time = ?, completion_time = ?, expiration_time = ?
         WHERE delivery_id = ?`,
      ),
      markUnparseable: db.prepare(
        `UPDATE envelopes SET parse_state = 'unparseable', parse_error = ? WHERE delivery_id = ?`,
      ),
      requestOf: db.prepare<[number], { request_id: string }>(
        'SELECT request_id FROM deliveries WHERE delivery_id = ?',
      ),
      learnFromEnvelope: db.prepare(
        `UPDATE requests SET job_id = COALESCE(job_id, @jobId), api = COALESCE(api, @api), updated_at = @now
         WHERE request_id = @requestId
           AND ((job_id IS NULL AND @jobId IS NOT NULL) OR (api IS NULL AND @api IS NOT NULL))`,
      ),
      settle: db.prepare<unknown[], { job_id: string | null; api: string | null }>(
        `UPDATE requests SET state = ?, outcome_delivery_id = ?, completed_at = ?, updated_at = ?
         WHERE request_id = ? AND state = 'pending' RETURNING job_id, api`,
      ),
      byRequestId: db.prepare<[string], RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.request_id = ?`),
      byJobId: db.prepare<[string], RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.job_id = ? ORDER BY r.created_at DESC LIMIT 1`,
      ),
      deliveriesOf: db.prepare<[string], DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries d LEFT JOIN envelopes e USING (delivery_id)
         WHERE d.request_id = ? ORDER BY d.delivery_id`,
      ),
    };
  }

  #open(): Database.Database {
    if (this.#closed) throw new JobhookError('JH_ERR_STORE_CLOSED', 'the store is closed');
    return this.#db;
  }

  /**
   * Runs a write transaction; any database failure becomes JH_ERR_STORE_UNAVAILABLE so callers can answer 503.
   * `fsync: false` is for data derivable from what is already durable (parse results): its commit skips the
   * fsync (`synchronous = NORMAL`, still atomic and crash-safe for the process), and the next durable commit
   * flushes it along with its own pages, in order.
   */
  #write<T>(what: string, fn: () => T, { fsync = true }: { fsync?: boolean } = {}): T {
    const db = this.#open();
    try {
      if (!fsync) db.pragma('synchronous = NORMAL');
      return db.transaction(fn).immediate();
    } catch (error) {
      if (error instanceof JobhookError) throw error;
      throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot ${what}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      if (!fsync) db.pragma('synchronous = FULL');
    }
  }

  async ensureSecrets(generate: () => string): Promise<string[]> {
    return this.#write('initialise the callback secrets', () => {
      const row = this.#stmt.getSetting.get(SECRETS_KEY);
      if (row) return JSON.parse(row.value) as string[];
      const secrets = [generate()];
      this.#stmt.putSetting.run(SECRETS_KEY, JSON.stringify(secrets));
      return secrets;
    });
  }

  async addSecret(secret: string): Promise<string[]> {
    return this.#write('add a callback secret', () => {
      const row = this.#stmt.getSetting.get(SECRETS_KEY);
      const secrets = [secret, ...(row ? (JSON.parse(row.value) as string[]) : [])];
      this.#stmt.putSetting.run(SECRETS_KEY, JSON.stringify(secrets));
      return secrets;
    });
  }

  async createRequest(input: NewRequest): Promise<RequestRecord> {
    this.#write('record the request', () => {
      this.#stmt.insertRequest.run({
        requestId: input.requestId,
        kind: input.kind,
        api: input.api ?? null,
        callbackUrl: input.callbackUrl,
        requestBody: input.requestBody ?? null,
        createdAt: input.createdAtMs ?? Date.now(),
      });
    });
    return toRequestRecord(this.#stmt.byRequestId.get(input.requestId)!);
  }

  async recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]> {
    const hashes = batch.map((d) => createHash('sha256').update(d.body).digest());
    return this.#write('record deliveries', () =>
      batch.map((d, i) => {
        this.#stmt.ensureRequest.run(d.requestId, d.receivedAtMs, d.receivedAtMs);
        const row = this.#stmt.upsertDelivery.get(
          d.requestId,
          d.source,
          d.body,
          hashes[i],
          JSON.stringify(d.rawHeaders),
          d.receivedAtMs,
          d.receivedAtMs,
        )!;
        if (row.count === 1) this.#stmt.insertPendingEnvelope.run(row.delivery_id);
        return { deliveryId: row.delivery_id, requestId: d.requestId, duplicate: row.count > 1, count: row.count };
      }),
    );
  }

  async listUnparsedDeliveries(limit: number): Promise<DeliveryRecord[]> {
    this.#open();
    return this.#stmt.unparsed.all(limit).map(toDeliveryRecord);
  }

  async recordParseOutcomes(outcomes: readonly ParseOutcome[]): Promise<RequestSettledEvent[]> {
    const now = Date.now();
    const settled = this.#write(
      'record parse outcomes',
      () => {
        const events: RequestSettledEvent[] = [];
        for (const outcome of outcomes) {
          if (!outcome.ok) {
            this.#stmt.markUnparseable.run(outcome.error, outcome.deliveryId);
            continue;
          }
          const e = outcome.envelope;
          const row = this.#stmt.requestOf.get(outcome.deliveryId);
          if (!row) continue;
          this.#stmt.markParsed.run(
            e.jobId,
            e.api,
            e.status,
            e.creationTime,
            e.completionTime,
            e.expirationTime,
            outcome.deliveryId,
          );
          this.#stmt.learnFromEnvelope.run({ jobId: e.jobId, api: e.api, now, requestId: row.request_id });
          if (e.status !== 'Success' && e.status !== 'Fail') continue;
          const state = e.status === 'Success' ? 'succeeded' : 'failed';
          const changed = this.#stmt.settle.get(state, outcome.deliveryId, now, now, row.request_id);
          if (changed) {
            events.push({
              requestId: row.request_id,
              jobId: changed.job_id,
              api: changed.api,
              state,
              deliveryId: outcome.deliveryId,
            });
          }
        }
        return events;
      },
      { fsync: false },
    );
    for (const event of settled) this.#events.emit('settled', event);
    return settled;
  }

  async findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined> {
    this.#open();
    const row = this.#stmt.byRequestId.get(requestIdOrJobId) ?? this.#stmt.byJobId.get(requestIdOrJobId);
    return row ? toRequestRecord(row) : undefined;
  }

  async listRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.state) {
      where.push('r.state = ?');
      params.push(query.state);
    }
    if (query.api) {
      where.push('r.api = ?');
      params.push(query.api);
    }
    params.push(query.limit ?? 100);
    const sql = `SELECT ${REQUEST_COLUMNS} FROM requests r ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY r.created_at DESC, r.request_id DESC LIMIT ?`;
    return this.#open()
      .prepare<unknown[], RequestRow>(sql)
      .all(...params)
      .map(toRequestRecord);
  }

  async listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    this.#open();
    return this.#stmt.deliveriesOf.all(requestId).map(toDeliveryRecord);
  }

  onSettled(listener: (event: RequestSettledEvent) => void): () => void {
    this.#events.on('settled', listener);
    return () => this.#events.off('settled', listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
