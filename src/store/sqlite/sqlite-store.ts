import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';

export type { SqliteStoreOptions } from './sqlite-options.js';
import type {
  DeliveryRecord,
  DeliveryRules,
  EnvelopeParseResult,
  EventRecord,
  InsightsKey,
  InsightsRecord,
  SubscriptionInput,
  SubscriptionRecord,
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
import { indexPlan, runIndexPlanSync } from '../index-plan.js';
import type { BodySink, EventQuery, NewRequest, RateLimits, RequestQuery, RunOutcome, Store } from '../store.js';
import { BodySpool } from './body-spool.js';
import { prepareHandlerRuns } from './handler-runs.js';
import { Instances } from './instances.js';
import type { SqliteStoreOptions } from './sqlite-options.js';
import { migrate } from './migrate.js';
import { countNotYetDue, listRequests, requestsByIds } from './sqlite-reader.js';
import { sqliteIndexTx, toReceipt } from './sqlite-index-tx.js';
import { reportSqliteRate, takeSqliteGrant } from './sqlite-rate-budget.js';
import { SettlementWatch } from './settlement-watch.js';
import { SqliteWriter } from './sqlite-writer.js';
import {
  prepareNotificationStatements,
  sqliteNotificationTx,
  type NotificationStatements,
} from './sqlite-notifications.js';
import { subscriptionValues, toEventRecord, toInsightsRecord, toSubscriptionRecord } from '../notification-rows.js';
import { DEFAULT_INDEX_LIMIT, prepareStatements, SECRETS_KEY, type Statements } from './statements.js';
import { toDeliveryRecord, toRequestRecord, type DeliveryRow } from './rows.js';

/**
 * SQLite implementation of the Store: one file in WAL mode. Receipts are committed with
 * `synchronous = FULL` (fsync'd before the receiver answers); the index built from them after the ack
 * is derivable, so its commits skip the fsync and ride on the next durable one.
 */
export class SqliteStore implements Store {
  readonly ownerId = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #notes: NotificationStatements;
  readonly #runs;
  readonly #spool: BodySpool;
  readonly #writer: SqliteWriter;
  #closed = false;
  readonly #watch: SettlementWatch;
  readonly #instances: Instances;

  constructor(options: SqliteStoreOptions) {
    try {
      this.#db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 1000 });
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      migrate(this.#db);
      // Before the writer, whose file guard watches the spool folder too.
      this.#spool = new BodySpool(options.path);
      this.#writer = new SqliteWriter(this.#db, {
        path: options.path,
        busyTimeoutMs: options.busyTimeoutMs ?? 1000,
        checkpointIdleMs: options.checkpointIdleMs ?? 500,
        fileCheckIntervalMs: options.fileCheckIntervalMs ?? 1000,
        onProblem: options.onProblem,
      });
    } catch (error) {
      if (error instanceof JobhookError) throw error;
      throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot open SQLite store at ${options.path}`, {
        cause: error,
      });
    }
    const db = this.#db;
    this.#stmt = prepareStatements(db);
    this.#notes = prepareNotificationStatements(db);
    this.#runs = prepareHandlerRuns(db, this.ownerId);
    this.#instances = new Instances({
      owner: this.ownerId,
      stmt: this.#stmt,
      leaseMs: options.instanceLeaseMs ?? 30_000,
      write: (what, fn) => this.#write(what, fn, { fsync: false }),
    });
    // A spool file with no row is an interrupted delivery (never acknowledged). Another live process may
    // still be about to commit a fresh one, so only files older than an hour are removed.
    const referenced = new Set(this.#stmt.spoolFiles.all());
    void this.#spool.sweepOrphans((file) => referenced.has(file), 60 * 60_000);
    this.#watch = new SettlementWatch(db, this.#stmt, this.#notes, options.watchIntervalMs ?? 200);
  }

  #open(): Database.Database {
    if (this.#closed) throw new JobhookError('JH_ERR_STORE_CLOSED', 'the store is closed');
    return this.#db;
  }

  /** Runs a write transaction through the writer: file checks, asynchronous lock waits, checkpoints. */
  #write<T>(what: string, fn: () => T, options: { fsync?: boolean } = {}): Promise<T> {
    return this.#writer.write(() => this.#open(), what, fn, options);
  }

  /** Runs reads in one snapshot (a request and its receipts agree); closed: JH_ERR_STORE_CLOSED. */
  #read<T>(fn: () => T): T {
    const db = this.#open();
    return db.transaction(fn)();
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

  async ensureSetting(key: string, generate: () => string): Promise<string> {
    return this.#write('initialise a setting', () => {
      const row = this.#stmt.getSetting.get(key);
      if (row) return row.value;
      const value = generate();
      this.#stmt.putSetting.run(key, value);
      return value;
    });
  }

  health(): { ok: true } | { ok: false; problem: string } {
    if (this.#closed) return { ok: false, problem: 'the store is closed' };
    const problem = this.#writer.problem;
    return problem === null ? { ok: true } : { ok: false, problem };
  }

  async getSetting(key: string): Promise<string | null> {
    return this.#read(() => this.#stmt.getSetting.get(key)?.value ?? null);
  }

  async putSetting(key: string, value: string): Promise<void> {
    await this.#write('write a setting', () => {
      this.#stmt.putSetting.run(key, value);
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
    await this.#write('record the request', () => {
      this.#stmt.insertRequest.run({
        requestId: input.requestId,
        kind: input.kind,
        api: input.api ?? null,
        callbackUrl: input.callbackUrl,
        requestBody: input.requestBody ?? null,
        createdAt: input.createdAtMs ?? Date.now(),
      });
    });
    return (await this.findRequest(input.requestId))!;
  }

  async openBodySink(): Promise<BodySink> {
    this.#open();
    // A store that refuses writes until restarted would only answer 503 after spooling the whole body.
    const problem = this.#writer.problem;
    if (problem !== null) throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', problem);
    return this.#spool.open();
  }

  async discardSpooled(body: SpooledBody): Promise<void> {
    await this.#spool.remove([body.file]);
  }

  async listUnparsedSpooled(limit: number): Promise<{ deliveryId: number; path: string; kind: RequestKind }[]> {
    return this.#read(() =>
      this.#stmt.unparsedSpooled.all(limit).map((row) => ({
        deliveryId: row.delivery_id,
        path: this.#spool.pathOf(row.body_file),
        kind: row.kind ?? 'job',
      })),
    );
  }

  async recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]> {
    const hashes = batch.map(
      (d) =>
        d.bodySha256 ??
        createHash('sha256')
          .update(Buffer.isBuffer(d.body) ? d.body : Buffer.alloc(0))
          .digest(),
    );
    for (const d of batch) {
      if (!Buffer.isBuffer(d.body) && d.bodySha256 === undefined) {
        throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'a spooled body needs its bodySha256');
      }
    }
    return this.#write('record deliveries', () =>
      batch.map((d, i) => {
        const spooled = Buffer.isBuffer(d.body) ? null : d.body;
        const { lastInsertRowid } = this.#stmt.insertDelivery.run(
          d.requestId,
          d.source,
          spooled ? Buffer.alloc(0) : d.body,
          spooled ? spooled.file : null,
          hashes[i],
          JSON.stringify(d.rawHeaders),
          d.receivedAtMs,
          d.acceptedPath ?? null,
        );
        return { deliveryId: Number(lastInsertRowid), requestId: d.requestId };
      }),
    );
  }

  async indexDeliveries(
    rules: DeliveryRules,
    limit = DEFAULT_INDEX_LIMIT,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass> {
    const now = Date.now();
    /** Spool files of folded duplicates, removed once the pass has committed. */
    const orphaned: string[] = [];
    const pass = await this.#write(
      'index deliveries',
      () => {
        // The write lock is the claim: receipts are read under it, so another process indexing meanwhile
        // waits, then finds them done (`indexed_at` set, or folded away).
        const receipts = this.#stmt.pendingPage.all(limit).map(toReceipt);
        const tx = sqliteIndexTx({
          notes: sqliteNotificationTx(this.#notes, now),
          stmt: this.#stmt,
          nowMs: now,
          rules,
          preparsed,
          parseSpooled: (file, kind) => this.#parseSpooled(file, (body) => rules.parse(body, kind)),
          onSettle: (event) => this.#runs.createForSettlement(event, now),
        });
        const result = runIndexPlanSync(indexPlan(tx, receipts, rules, now));
        orphaned.push(...result.orphanedFiles);
        const { examined, duplicates, settled, blocked, insights } = result;
        return { examined, duplicates, settled, blocked, insights };
      },
      { fsync: false },
    );
    if (orphaned.length > 0) {
      // The fold above committed without an fsync; a power cut could bring its duplicate rows back, so
      // their files go only after a durable commit has carried the fold to disk.
      await this.#write('flush folded duplicates', () => this.#stmt.putSetting.run('last_fold_at', String(now)));
      await this.#spool.remove(orphaned);
    }
    if (pass.settled.length > 0 || pass.insights.length > 0) this.#watch.emit();
    return pass;
  }

  /** A spool file that cannot be read (removed by hand) is recorded unparseable, not retried for ever. */
  #parseSpooled(file: string, parse: (body: Buffer) => EnvelopeParseResult): EnvelopeParseResult {
    let body: Buffer;
    try {
      body = this.#spool.readSync(file);
    } catch (error) {
      return { ok: false, error: `stored body unreadable: ${(error as Error).message}` };
    }
    return parse(body);
  }

  async updateSubmission(
    requestId: string,
    update: { state: SubmitState; jobId?: string; error?: string },
  ): Promise<void> {
    // A submission in flight is this process's claim while it heartbeats (see instances.ts).
    if (update.state === 'submitting') await this.#instances.start();
    await this.#write('record the submission', () => {
      const { changes } = this.#stmt.updateSubmission.run({
        state: update.state,
        jobId: update.jobId ?? null,
        error: update.error ?? null,
        owner: this.ownerId,
        now: Date.now(),
        requestId,
      });
      if (changes === 0) throw new JobhookError('JH_ERR_NOT_FOUND', `no request ${requestId}`);
    });
  }

  async markInterruptedSubmissions(): Promise<string[]> {
    return this.#instances.markInterrupted();
  }

  async claimDueChecks(firstCheckAfterMs: number, leaseMs: number, limit: number): Promise<RequestRecord[]> {
    const now = Date.now();
    const ids = await this.#write(
      'claim status checks',
      () =>
        this.#stmt.claimDue
          .all({ owner: this.ownerId, leaseUntil: now + leaseMs, delay: firstCheckAfterMs, now, limit })
          .map((r) => r.request_id),
      { fsync: false },
    );
    return this.#read(() => requestsByIds(this.#db, ids));
  }

  async countNotYetDue(firstCheckAfterMs: number): Promise<{ count: number; nextDueAtMs: number | null }> {
    return this.#read(() => countNotYetDue(this.#db, Date.now(), firstCheckAfterMs));
  }

  async scheduleCheck(requestId: string, inMs: number): Promise<boolean> {
    return this.#write('schedule a status check', () => {
      const now = Date.now();
      const params = { next: now + inMs, now, owner: this.ownerId, requestId };
      if (this.#stmt.scheduleCheck.run(params).changes > 0) return true;
      if (this.#stmt.exists.get(requestId) === undefined) {
        throw new JobhookError('JH_ERR_NOT_FOUND', `no request ${requestId}`);
      }
      return false;
    });
  }

  async markExpired(requestId: string): Promise<boolean> {
    const now = Date.now();
    const changed = await this.#write('mark the request expired', () => {
      return this.#stmt.settle.run('expired', null, now, now, requestId).changes > 0;
    });
    if (changed) this.#watch.emit();
    return changed;
  }

  async takeRateToken(key: string, limits: RateLimits): Promise<number> {
    return this.#write('take from the rate budget', () => takeSqliteGrant(this.#stmt, key, limits), { fsync: false });
  }

  async reportRate(key: string, report: { holdMs?: number; remaining?: number; limits: RateLimits }): Promise<void> {
    await this.#write('record a rate limit', () => reportSqliteRate(this.#stmt, key, report));
  }

  async getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined> {
    const row = this.#read(() => this.#stmt.deliveryById.get({ id: deliveryId }));
    return row ? this.#toRecord(row) : undefined;
  }

  /** Spooled bodies are read from their file, asynchronously, after the snapshot's transaction. */
  async #toRecord(row: DeliveryRow): Promise<DeliveryRecord> {
    return toDeliveryRecord(row, row.body_file ? await this.#spool.read(row.body_file) : undefined);
  }

  async registerHandler(name: string, api: string | null): Promise<void> {
    await this.#write('register a handler', () => this.#runs.register(name, api));
  }

  async claimHandlerRuns(handler: string, leaseMs: number, limit: number): Promise<HandlerRun[]> {
    return this.#write('claim handler runs', () => this.#runs.claim(handler, Date.now(), leaseMs, limit));
  }

  async completeHandlerRun(run: { handler: string; eventKey: string }, outcome: RunOutcome): Promise<void> {
    await this.#write('complete a handler run', () => this.#runs.complete(run, outcome, Date.now()));
  }

  async listHandlerRuns(requestId: string): Promise<HandlerRun[]> {
    this.#open();
    return this.#runs.list(requestId);
  }

  async retryHandlerRuns(requestId: string, options: { all?: boolean } = {}): Promise<number> {
    return this.#write('retry handler runs', () => this.#runs.retry(requestId, Date.now(), options.all === true));
  }

  async pruneRequests(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number> {
    return this.#write('prune requests', () => this.#stmt.prune.run(state, createdBeforeMs).changes);
  }

  async findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined> {
    return this.#read(() => {
      const params = { id: requestIdOrJobId };
      const row = this.#stmt.byRequestId.get(params) ?? this.#stmt.byJobId.get(params);
      return row ? toRequestRecord(row) : undefined;
    });
  }

  async listRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    return this.#read(() => listRequests(this.#db, query));
  }

  async listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    const rows = this.#read(() => this.#stmt.deliveriesOf.all({ requestId }));
    return Promise.all(rows.map((row) => this.#toRecord(row)));
  }

  /** SQLite never loses a settlement (other processes' are read from the file), so `onResync` is never due. */
  onSettled(listener: (event: RequestSettledEvent) => void): () => void {
    return this.#watch.subscribe(listener);
  }

  onInsights(listener: (key: InsightsKey) => void): () => void {
    return this.#watch.subscribeInsights(listener);
  }

  async saveSubscription(input: SubscriptionInput): Promise<SubscriptionRecord> {
    const now = Date.now();
    await this.#write('save a subscription', () => {
      this.#notes.saveSubscription.run(...subscriptionValues(input), now, now);
    });
    return (await this.findSubscription(input.name))!;
  }

  async findSubscription(nameOrPlatformId: string): Promise<SubscriptionRecord | undefined> {
    return this.#read(() => {
      const row =
        this.#notes.subscriptionByName.get(nameOrPlatformId) ??
        this.#notes.subscriptionByPlatformId.get(nameOrPlatformId);
      return row ? toSubscriptionRecord(row) : undefined;
    });
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.#read(() => this.#notes.listSubscriptions.all().map(toSubscriptionRecord));
  }

  async removeSubscription(name: string): Promise<boolean> {
    return this.#write('remove a subscription', () => this.#notes.removeSubscription.run(name).changes > 0);
  }

  async holdLease(name: string, leaseMs: number): Promise<boolean> {
    return this.#write(
      'hold a lease',
      () => {
        const now = Date.now();
        return this.#notes.holdLease.get({ name, owner: this.ownerId, until: now + leaseMs, now }) !== undefined;
      },
      { fsync: false },
    );
  }

  async releaseLease(name: string): Promise<void> {
    await this.#write('release a lease', () => void this.#notes.releaseLease.run(name, this.ownerId));
  }

  async listEvents(query: EventQuery = {}): Promise<EventRecord[]> {
    const params = {
      requestId: query.requestId ?? null,
      uuid: query.uuid ?? null,
      domain: query.record?.domain ?? null,
      recordId: query.record?.sourceRecordId ?? null,
      limit: query.limit ?? 100,
    };
    return this.#read(() => this.#notes.listEvents.all(params).map(toEventRecord));
  }

  async findInsights(key: InsightsKey): Promise<InsightsRecord | undefined> {
    const row = this.#read(() => this.#notes.findInsights.get(key.domain, key.sourceRecordId));
    return row ? toInsightsRecord(row) : undefined;
  }

  async listInsights(query: { domain?: string; limit?: number } = {}): Promise<InsightsRecord[]> {
    const params = { domain: query.domain ?? null, limit: query.limit ?? 100 };
    return this.#read(() => this.#notes.listInsights.all(params).map(toInsightsRecord));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Gone on purpose: whatever it left submitting is interrupted now, not after its lease.
    await this.#instances.stop().catch(() => undefined);
    this.#closed = true;
    this.#watch.close();
    this.#writer.stop();
    this.#db.close();
  }
}
