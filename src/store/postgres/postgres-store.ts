import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { JobhookError } from '../../errors.js';
import type {
  DeliveryRecord,
  DeliveryRules,
  EnvelopeParseResult,
  HandlerRun,
  IncomingDelivery,
  IndexPass,
  RecordedDelivery,
  RequestRecord,
  RequestSettledEvent,
  SpooledBody,
  SubmitState,
} from '../../types.js';
import { indexPlan, runIndexPlanAsync } from '../index-plan.js';
import { toDeliveryRecord, toRequestRecord, type DeliveryRow, type RequestRow } from '../sqlite/rows.js';
import type { BodySink, NewRequest, RateLimits, RequestQuery, RunOutcome, Store } from '../store.js';
import { MemoryBodies } from './body-sink.js';
import { PgCheckQueue } from './check-queue.js';
import { Database, NOW_MS, schemaKey } from './database.js';
import { PgHandlerQueue } from './handler-queue.js';
import { claim, PgIndexTx } from './index-tx.js';
import { SettlementListener } from './listener.js';
import { migrate } from './migrate.js';
import { reportRate, takeToken } from './rate-budget.js';
import { INDEXED_DELIVERIES, REQUEST_SELECT, UNINDEXED_DELIVERIES } from './rows.js';
import { PgSubmissions } from './submissions.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq URL; `?sslmode=…` and friends work). */
  connectionString: string;
  /** The schema holding jobhook's tables, created if missing; every connection's search_path. @defaultValue 'public' */
  schema?: string;
  /** Pooled connections for queries (the LISTEN connection is one more). @defaultValue 10 */
  poolSize?: number;
  /** Server-side limit on one statement; past it the call fails with JH_ERR_STORE_UNAVAILABLE. @defaultValue 15000 */
  statementTimeoutMs?: number;
  /** How long opening a connection may take before it counts as the database being unreachable. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** How long an instance's heartbeat keeps its in-flight submissions from being marked interrupted. @defaultValue 30000 */
  instanceLeaseMs?: number;
  /**
   * Told each time the database stops answering (healthy → unhealthy); `health()` recovers by itself when
   * it answers again. Nothing is logged by the store itself.
   */
  onProblem?: (error: JobhookError) => void;
}

const SECRETS_KEY = 'callback_secrets';
const DEFAULT_INDEX_LIMIT = 1000;
/** Rows per INSERT statement: 8 parameters each stays far below PostgreSQL's 65 535. */
const ROWS_PER_INSERT = 4000;

/** The NOTIFY channel of a schema's settlement hints (tests run schemas side by side in one database). */
export const settlementChannel = (schema: string): string =>
  `jobhook_settled_${schemaKey(schema, 'notify').slice(0, 24)}`;

/**
 * PostgreSQL implementation of the Store, shared by a fleet of instances. Open it with
 * `PostgresStore.open()`, which also migrates; the constructor alone only makes the pool. Every lease, due
 * time and hold runs on the database's clock; receipts commit in one multi-row INSERT per group commit
 * (`synchronous_commit` as the server has it: on by default); settlement hints travel over LISTEN/NOTIFY.
 */
export class PostgresStore implements Store {
  readonly ownerId = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  readonly #db: Database;
  readonly #channel: string;
  readonly #listener: SettlementListener;
  readonly #bodies = new MemoryBodies();
  readonly #handlers: PgHandlerQueue;
  readonly #checks: PgCheckQueue;
  readonly #submissions: PgSubmissions;
  #closing: Promise<void> | null = null;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'public';
    this.#db = new Database({
      connectionString: options.connectionString,
      schema,
      poolSize: options.poolSize ?? 10,
      statementTimeoutMs: options.statementTimeoutMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      onProblem: options.onProblem,
    });
    this.#channel = settlementChannel(schema);
    this.#listener = new SettlementListener(() => this.#db.clientConfig('jobhook-listen'), this.#channel, this.ownerId);
    this.#handlers = new PgHandlerQueue(this.#db, this.ownerId);
    this.#checks = new PgCheckQueue(this.#db, this.ownerId);
    this.#submissions = new PgSubmissions(this.#db, this.ownerId, options.instanceLeaseMs ?? 30_000);
  }

  /** Connects, applies pending migrations (once across instances starting together) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    const client = new pg.Client(store.#db.clientConfig('jobhook-migrate'));
    client.on('error', () => undefined);
    try {
      await client.connect();
      await migrate(client, store.#db.schema);
    } catch (error) {
      await store.close();
      if (error instanceof JobhookError) throw error;
      throw new JobhookError(
        'JH_ERR_STORE_UNAVAILABLE',
        `cannot open the PostgreSQL store: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    } finally {
      await client.end().catch(() => undefined);
    }
    return store;
  }

  health(): { ok: true } | { ok: false; problem: string } {
    if (this.#db.closed) return { ok: false, problem: 'the store is closed' };
    const problem = this.#db.problem;
    return problem === null ? { ok: true } : { ok: false, problem };
  }

  // Settings and secrets.

  async getSetting(key: string): Promise<string | null> {
    const { rows } = await this.#db.query<{ value: string }>(
      'read a setting',
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    return rows[0]?.value ?? null;
  }

  async putSetting(key: string, value: string): Promise<void> {
    await this.#db.query(
      'write a setting',
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [key, value],
    );
  }

  /** Generated only when absent; when two instances race, the first insert wins and both return it. */
  async ensureSetting(key: string, generate: () => string): Promise<string> {
    const existing = await this.getSetting(key);
    if (existing !== null) return existing;
    const { rows } = await this.#db.query<{ value: string }>(
      'initialise a setting',
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, generate()],
    );
    return rows[0]?.value ?? (await this.getSetting(key))!;
  }

  async ensureSecrets(generate: () => string): Promise<string[]> {
    return JSON.parse(await this.ensureSetting(SECRETS_KEY, () => JSON.stringify([generate()]))) as string[];
  }

  async addSecret(secret: string): Promise<string[]> {
    const { rows } = await this.#db.query<{ value: string }>(
      'add a callback secret',
      `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key)
       DO UPDATE SET value = (jsonb_build_array($3::text) || settings.value::jsonb)::text RETURNING value`,
      [SECRETS_KEY, JSON.stringify([secret]), secret],
    );
    return JSON.parse(rows[0]!.value) as string[];
  }

  // Requests.

  async createRequest(input: NewRequest): Promise<RequestRecord> {
    await this.#db.query(
      'record the request',
      `INSERT INTO requests (request_id, kind, api, callback_url, request_body, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6, ${NOW_MS}), COALESCE($6, ${NOW_MS}))`,
      [
        input.requestId,
        input.kind,
        input.api ?? null,
        input.callbackUrl,
        input.requestBody ?? null,
        input.createdAtMs ?? null,
      ],
    );
    return (await this.findRequest(input.requestId))!;
  }

  updateSubmission(requestId: string, update: { state: SubmitState; jobId?: string; error?: string }): Promise<void> {
    return this.#submissions.update(requestId, update);
  }

  markInterruptedSubmissions(): Promise<string[]> {
    return this.#submissions.markInterrupted();
  }

  // Ingest.

  async openBodySink(): Promise<BodySink> {
    this.#db.assertOpen();
    // Gathering a large body only to answer 503 at its commit would waste the sender's time.
    const problem = this.#db.problem;
    if (problem !== null) throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', problem);
    return this.#bodies.open();
  }

  async discardSpooled(body: SpooledBody): Promise<void> {
    this.#bodies.forget([body]);
  }

  async listUnparsedSpooled(): Promise<{ deliveryId: number; path: string }[]> {
    this.#db.assertOpen();
    return [];
  }

  async recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]> {
    this.#db.assertOpen();
    if (batch.length === 0) return [];
    const spooled: SpooledBody[] = [];
    const rows = batch.map((d) => {
      let body: Buffer;
      if (Buffer.isBuffer(d.body)) body = d.body;
      else {
        if (d.bodySha256 === undefined) {
          throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'a spooled body needs its bodySha256');
        }
        body = this.#bodies.bytesOf(d.body);
        spooled.push(d.body);
      }
      const sha = d.bodySha256 ?? createHash('sha256').update(body).digest();
      return [d.requestId, d.source, body, sha, JSON.stringify(d.rawHeaders), d.receivedAtMs, d.acceptedPath ?? null];
    });
    const insert = async (client: pg.ClientBase, chunk: unknown[][]): Promise<number[]> => {
      const values = chunk.map(
        (_, i) =>
          `($${i * 7 + 1}, $${i * 7 + 2}, $${i * 7 + 3}, $${i * 7 + 4}, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7})`,
      );
      const { rows: ids } = await client.query<{ delivery_id: number }>(
        `INSERT INTO deliveries (request_id, source, body, body_sha256, raw_headers, received_at, accepted_path)
         VALUES ${values.join(', ')} RETURNING delivery_id`,
        chunk.flat(),
      );
      // One statement takes its ids from the sequence in row order: sorted, they follow the batch.
      return ids.map((r) => r.delivery_id).sort((a, b) => a - b);
    };
    const ids = await this.#db.tx('record deliveries', async (client) => {
      const all: number[] = [];
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
        all.push(...(await insert(client, rows.slice(i, i + ROWS_PER_INSERT))));
      return all;
    });
    this.#bodies.forget(spooled);
    return batch.map((d, i) => ({ deliveryId: ids[i]!, requestId: d.requestId }));
  }

  async indexDeliveries(
    rules: DeliveryRules,
    limit = DEFAULT_INDEX_LIMIT,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass> {
    const result = await this.#db.tx('index deliveries', async (client) => {
      const claimed = await claim(client, limit);
      if (!claimed) return { examined: 0, duplicates: 0, settled: [], blocked: false };
      const tx = await PgIndexTx.prepare(client, claimed, rules, preparsed);
      const plan = await runIndexPlanAsync(indexPlan(tx, claimed.receipts, rules, claimed.nowMs));
      await tx.flush(this.#channel, this.ownerId);
      const { examined, duplicates, settled, blocked } = plan;
      return { examined, duplicates, settled, blocked };
    });
    this.#listener.emit(result.settled);
    return result;
  }

  // Status checks.

  claimDueChecks(firstCheckAfterMs: number, leaseMs: number, limit: number): Promise<RequestRecord[]> {
    return this.#checks.claim(firstCheckAfterMs, leaseMs, limit);
  }

  countNotYetDue(firstCheckAfterMs: number): Promise<{ count: number; nextDueAtMs: number | null }> {
    return this.#checks.countNotYetDue(firstCheckAfterMs);
  }

  scheduleCheck(requestId: string, inMs: number): Promise<boolean> {
    return this.#checks.schedule(requestId, inMs);
  }

  async markExpired(requestId: string): Promise<boolean> {
    const event = await this.#checks.markExpired(requestId, this.#channel, this.ownerId);
    if (event) this.#listener.emit([event]);
    return event !== null;
  }

  // Handler queue.

  registerHandler(name: string, api: string | null): Promise<void> {
    return this.#handlers.register(name, api);
  }

  claimHandlerRuns(handler: string, leaseMs: number, limit: number): Promise<HandlerRun[]> {
    return this.#handlers.claim(handler, leaseMs, limit);
  }

  completeHandlerRun(run: { handler: string; eventKey: string }, outcome: RunOutcome): Promise<void> {
    return this.#handlers.complete(run, outcome);
  }

  listHandlerRuns(requestId: string): Promise<HandlerRun[]> {
    return this.#handlers.list(requestId);
  }

  retryHandlerRuns(requestId: string, options: { all?: boolean } = {}): Promise<number> {
    return this.#handlers.retry(requestId, options.all === true);
  }

  // Rate budget.

  takeRateToken(key: string, limits: RateLimits): Promise<number> {
    return this.#db.tx('take a rate token', (client) => takeToken(client, key, limits));
  }

  async reportRate(key: string, report: { holdMs?: number; remaining?: number; limits: RateLimits }): Promise<void> {
    await this.#db.tx('report the rate limit', (client) => reportRate(client, key, report));
  }

  // Readers.

  async findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined> {
    // A minted (verified) request wins over an accepted one with the same jobId: anyone who knows an
    // --accept path can post an envelope naming any jobId, and must not shadow the real job.
    const { rows } = await this.#db.query<RequestRow>(
      'find a request',
      `(${REQUEST_SELECT} WHERE r.request_id = $1)
       UNION ALL
       (${REQUEST_SELECT} WHERE r.job_id = $1 ORDER BY (r.origin = 'minted') DESC, r.created_at DESC LIMIT 1)
       LIMIT 1`,
      [requestIdOrJobId],
    );
    return rows[0] ? toRequestRecord(rows[0]) : undefined;
  }

  async listRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [query.limit ?? 100];
    const param = (value: unknown): string => `$${values.push(value)}`;
    if (query.state === 'rejected' || query.state === 'unknown') {
      where.push(`r.state = 'pending' AND r.submit_state = ${param(query.state)}`);
    } else if (query.state === 'pending') {
      where.push(`r.state = 'pending' AND r.submit_state NOT IN ('rejected', 'unknown')`);
    } else if (query.state) where.push(`r.state = ${param(query.state)}`);
    if (query.api) where.push(`r.api = ${param(query.api)}`);
    if (query.parentRequestId) where.push(`r.parent_request_id = ${param(query.parentRequestId)}`);
    const { rows } = await this.#db.query<RequestRow>(
      'list requests',
      `${REQUEST_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.created_at DESC, r.request_id DESC LIMIT $1`,
      values,
    );
    return rows.map(toRequestRecord);
  }

  async listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    const { rows } = await this.#db.query<DeliveryRow>(
      'list deliveries',
      `${INDEXED_DELIVERIES} WHERE i.request_id = $1
       UNION ALL ${UNINDEXED_DELIVERIES} AND d.request_id = $1
       ORDER BY delivery_id`,
      [requestId],
    );
    return rows.map((row) => toDeliveryRecord(row));
  }

  async getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.#db.query<DeliveryRow>(
      'read a delivery',
      `${INDEXED_DELIVERIES} WHERE i.delivery_id = $1 UNION ALL ${UNINDEXED_DELIVERIES} AND d.delivery_id = $1`,
      [deliveryId],
    );
    return rows[0] ? toDeliveryRecord(rows[0]) : undefined;
  }

  onSettled(listener: (event: RequestSettledEvent) => void, onResync?: () => void): () => void {
    return this.#listener.subscribe(listener, onResync);
  }

  /** Only requests nothing refers to: no receipt (indexed or not), no handler run, no other job's parent. */
  async pruneRequests(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number> {
    const result = await this.#db.query(
      'prune requests',
      `DELETE FROM requests r WHERE r.state = 'pending' AND r.submit_state = $1 AND r.created_at < $2
         AND NOT EXISTS (SELECT 1 FROM delivery_index i WHERE i.request_id = r.request_id)
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.request_id = r.request_id AND d.indexed_at IS NULL)
         AND NOT EXISTS (SELECT 1 FROM handler_runs h WHERE h.request_id = r.request_id)
         AND NOT EXISTS (SELECT 1 FROM requests c WHERE c.parent_request_id = r.request_id)`,
      [state, createdBeforeMs],
    );
    return result.rowCount ?? 0;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listener.close();
      await this.#submissions.stop();
      await this.#db.close();
    })();
    return this.#closing;
  }
}
