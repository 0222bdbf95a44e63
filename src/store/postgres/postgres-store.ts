import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { isJobhookError, JobhookError } from '../../errors.js';
import type {
  EventRecord,
  InsightsKey,
  InsightsRecord,
  SubscriptionInput,
  SubscriptionRecord,
  DeliveryRecord,
  DeliveryRules,
  EnvelopeParseResult,
  HandlerRun,
  IncomingDelivery,
  IndexPass,
  RecordedDelivery,
  RequestKind,
  RequestRecord,
  RequestSettledEvent,
  SpooledBody,
  SubmitState,
} from '../../types.js';
import type { BodySink, EventQuery, NewRequest, RateLimits, RequestQuery, RunOutcome, Store } from '../store.js';
import { MemoryBodies } from './body-sink.js';
import { PgCheckQueue } from './check-queue.js';
import { Database, NOW_MS } from './database.js';
import { isPoolBusy } from './errors.js';
import { PgHandlerQueue } from './handler-queue.js';
import { runIndexPass } from './index-pass.js';
import { SettlementListener } from './listener.js';
import { migrate } from './migrate.js';
import { PgNotifications } from './notifications.js';
import { reportRate, takeToken } from './rate-budget.js';
import { PgReader } from './reader.js';
import { recordReceipts } from './receipts.js';
import { PgSettings } from './settings.js';
import { settlementChannel, type PostgresStoreOptions } from './store-options.js';
import { PgSubmissions } from './submissions.js';

export { settlementChannel, type PostgresStoreOptions } from './store-options.js';

const DEFAULT_INDEX_LIMIT = 1000;

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
  readonly #settings: PgSettings;
  readonly #reader: PgReader;
  readonly #notes: PgNotifications;
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
    this.#listener = new SettlementListener(
      () => this.#db.clientConfig('jobhook-listen'),
      this.#channel,
      this.ownerId,
      { pingIntervalMs: options.listenPingMs ?? 15_000 },
    );
    this.#handlers = new PgHandlerQueue(this.#db, this.ownerId);
    this.#checks = new PgCheckQueue(this.#db, this.ownerId);
    this.#settings = new PgSettings(this.#db);
    this.#reader = new PgReader(this.#db);
    this.#notes = new PgNotifications(this.#db, this.ownerId);
    this.#submissions = new PgSubmissions(this.#db, this.ownerId, options.instanceLeaseMs ?? 30_000);
  }

  /** Connects, applies pending migrations (once across instances starting together) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    const client = new pg.Client(store.#db.clientConfig('jobhook-migrate'));
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (options.existingOnly) {
        const { rows } = await client.query<{ found: string | null }>(
          "SELECT to_regclass(format('%I.jobhook_migrations', $1::text))::text AS found",
          [store.#db.schema],
        );
        if (rows[0]?.found == null) {
          throw new JobhookError(
            'JH_ERR_INVALID_CONFIG',
            `no jobhook schema "${store.#db.schema}" in this database: check --db's ?schema= (jobhook serve creates it)`,
          );
        }
      }
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

  getSetting(key: string): Promise<string | null> {
    return this.#settings.get(key);
  }

  putSetting(key: string, value: string): Promise<void> {
    return this.#settings.put(key, value);
  }

  ensureSetting(key: string, generate: () => string): Promise<string> {
    return this.#settings.ensure(key, generate);
  }

  ensureSecrets(generate: () => string): Promise<string[]> {
    return this.#settings.ensureSecrets(generate);
  }

  addSecret(secret: string): Promise<string[]> {
    return this.#settings.addSecret(secret);
  }

  // Requests.

  async createRequest(input: NewRequest): Promise<RequestRecord> {
    await this.#db.query(
      'record the request',
      `WITH t AS (SELECT COALESCE($6::bigint, ${NOW_MS}) AS ms)
       INSERT INTO requests (request_id, kind, api, callback_url, request_body, created_at, updated_at)
       SELECT $1, $2, $3, $4, $5, t.ms, t.ms FROM t`,
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

  async listUnparsedSpooled(): Promise<{ deliveryId: number; path: string; kind: RequestKind }[]> {
    this.#db.assertOpen();
    return [];
  }

  recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]> {
    return recordReceipts(this.#db, this.#bodies, batch);
  }

  async indexDeliveries(
    rules: DeliveryRules,
    limit = DEFAULT_INDEX_LIMIT,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass> {
    const result = await runIndexPass(this.#db, rules, limit, preparsed, {
      channel: this.#channel,
      ownerTag: this.ownerId,
    }).catch((error: unknown) => this.#settlingFailed(error));
    this.#listener.emit(result.settled, result.insights);
    return result;
  }

  /**
   * A settling call failed as unavailable: its COMMIT may still have succeeded with the answer lost, and
   * then its hints (this store's tag) are skipped by the listener while the local emit never ran. The
   * subscribers re-read instead. A busy pool never ran the transaction: nothing to resync.
   */
  #settlingFailed(error: unknown): never {
    if (isJobhookError(error, 'JH_ERR_STORE_UNAVAILABLE') && !isPoolBusy(error)) this.#listener.resync();
    throw error;
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
    const event = await this.#checks
      .markExpired(requestId, this.#channel, this.ownerId)
      .catch((error: unknown) => this.#settlingFailed(error));
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

  findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined> {
    return this.#reader.find(requestIdOrJobId);
  }

  listRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    return this.#reader.list(query);
  }

  listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    return this.#reader.listDeliveries(requestId);
  }

  getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined> {
    return this.#reader.getDelivery(deliveryId);
  }

  pruneRequests(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number> {
    return this.#reader.prune(state, createdBeforeMs);
  }

  onSettled(listener: (event: RequestSettledEvent) => void, onResync?: () => void): () => void {
    return this.#listener.subscribe(listener, onResync);
  }

  onInsights(listener: (key: InsightsKey) => void, onResync?: () => void): () => void {
    return this.#listener.subscribeInsights(listener, onResync);
  }

  // Subscriptions, leases, events and insight records.

  async saveSubscription(input: SubscriptionInput): Promise<SubscriptionRecord> {
    await this.#notes.save(input);
    return (await this.#notes.find(input.name))!;
  }

  findSubscription(nameOrPlatformId: string): Promise<SubscriptionRecord | undefined> {
    return this.#notes.find(nameOrPlatformId);
  }

  listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.#notes.list();
  }

  removeSubscription(name: string): Promise<boolean> {
    return this.#notes.remove(name);
  }

  holdLease(name: string, leaseMs: number): Promise<boolean> {
    return this.#notes.holdLease(name, leaseMs);
  }

  releaseLease(name: string): Promise<void> {
    return this.#notes.releaseLease(name);
  }

  listEvents(query: EventQuery = {}): Promise<EventRecord[]> {
    return this.#notes.listEvents(query);
  }

  findInsights(key: InsightsKey): Promise<InsightsRecord | undefined> {
    return this.#notes.findInsights(key);
  }

  listInsights(query: { domain?: string; limit?: number } = {}): Promise<InsightsRecord[]> {
    return this.#notes.listInsights(query);
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
