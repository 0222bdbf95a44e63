import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';
import type {
  DeliveryRecord,
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
import type { BodySink, NewRequest, RequestQuery, Store } from '../store.js';
import { BodySpool } from './body-spool.js';
import { prepareHandlerRuns } from './handler-runs.js';
import { runIndexPass } from './index-pass.js';
import { migrate } from './migrate.js';
import { SqliteWriter } from './sqlite-writer.js';
import {
  DEFAULT_INDEX_LIMIT,
  prepareStatements,
  REQUEST_COLUMNS,
  SECRETS_KEY,
  SETTLED_SEQ_KEY,
  WATERMARK_KEY,
  type Statements,
} from './statements.js';
import { toDeliveryRecord, toRequestRecord, type DeliveryRow, type RequestRow } from './rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /**
   * How long one write call waits for another process's lock before it fails with JH_ERR_STORE_UNAVAILABLE.
   * The wait is asynchronous (short attempts, event loop free between them); opening and migrating wait
   * synchronously up to this long.
   * @defaultValue 1000
   */
  busyTimeoutMs?: number;
  /**
   * How long writes must pause before the WAL is checkpointed and truncated (see wal-maintenance.ts).
   * @defaultValue 500
   */
  checkpointIdleMs?: number;
  /**
   * How often the database and WAL files are checked for removal or replacement between writes
   * (every fsync'd write also checks first).
   * @defaultValue 1000
   */
  fileCheckIntervalMs?: number;
  /**
   * Told once when the store stops accepting writes for good (its file was removed or replaced); every
   * write then fails with this same error. Nothing is logged by the store itself.
   * @defaultValue undefined
   */
  onProblem?: (error: JobhookError) => void;
  /**
   * How often the store looks for settlements committed by other processes while someone listens.
   * @defaultValue 200
   */
  watchIntervalMs?: number;
}

/**
 * SQLite implementation of the Store: one file in WAL mode. Receipts are committed with
 * `synchronous = FULL` (fsync'd before the receiver answers); the index built from them after the ack
 * is derivable, so its commits skip the fsync and ride on the next durable one.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #events = new EventEmitter<{ settled: [RequestSettledEvent] }>();
  readonly #stmt: Statements;
  readonly #runs;
  readonly #spool: BodySpool;
  readonly #writer: SqliteWriter;
  #closed = false;
  /** Highest `settled_seq` already emitted by this store. */
  #emittedSeq = 0;
  #dataVersion = 0;
  #watch: NodeJS.Timeout | null = null;
  readonly #watchIntervalMs: number;

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
    this.#watchIntervalMs = options.watchIntervalMs ?? 200;
    this.#stmt = prepareStatements(db);
    this.#runs = prepareHandlerRuns(db);
    // A spool file with no row is an interrupted delivery (never acknowledged). Another live process may
    // still be about to commit a fresh one, so only files older than an hour are removed.
    const referenced = new Set(this.#stmt.spoolFiles.all());
    void this.#spool.sweepOrphans((file) => referenced.has(file), 60 * 60_000);
    // Settlements made before this store opened are history, not events.
    this.#emittedSeq = this.#stmt.maxSettledSeq.get()!;
    this.#dataVersion = db.pragma('data_version', { simple: true }) as number;
  }

  #open(): Database.Database {
    if (this.#closed) throw new JobhookError('JH_ERR_STORE_CLOSED', 'the store is closed');
    return this.#db;
  }

  /** Runs a write transaction through the writer: file checks, asynchronous lock waits, checkpoints. */
  #write<T>(what: string, fn: () => T, options: { fsync?: boolean } = {}): Promise<T> {
    return this.#writer.write(() => this.#open(), what, fn, options);
  }

  /** Runs reads in one snapshot, so the watermark and the rows it splits agree; closed: JH_ERR_STORE_CLOSED. */
  #read<T>(fn: (watermark: number) => T): T {
    const db = this.#open();
    return db.transaction(() => fn(this.#stmt.watermark.get()!))();
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

  async listUnparsedSpooled(limit: number): Promise<{ deliveryId: number; path: string }[]> {
    return this.#read((watermark) =>
      this.#stmt.unparsedSpooled
        .all(watermark, limit)
        .map((row) => ({ deliveryId: row.delivery_id, path: this.#spool.pathOf(row.body_file) })),
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
    parse: (body: Buffer) => EnvelopeParseResult,
    limit = DEFAULT_INDEX_LIMIT,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<IndexPass> {
    const now = Date.now();
    /** Spool files of folded duplicates, removed once the pass has committed. */
    const orphaned: string[] = [];
    const pass = await this.#write(
      'index deliveries',
      () => {
        // Read the watermark inside the write lock: another process may have indexed meanwhile.
        const rows = this.#stmt.pendingPage.all(this.#stmt.watermark.get()!, limit);
        const result = runIndexPass({
          stmt: this.#stmt,
          rows,
          nowMs: now,
          // A caller that parses spooled bodies off the event loop (the indexer) passes `preparsed`: stop at
          // one it has not parsed yet. Without it (CLI, reconciler), the file is read and parsed here, one
          // body in memory at a time however large the page.
          parse: (row) =>
            preparsed?.get(row.delivery_id) ??
            (row.body_file
              ? preparsed
                ? null
                : this.#parseSpooled(row.body_file, parse)
              : parse(this.#stmt.bodyOf.get(row.delivery_id)!.body)),
          nextSettledSeq: () => this.#nextSettledSeq(),
        });
        // Every row up to the last one examined (indexed or folded) is done; a blocked pass stops before the rest.
        if (result.examined > 0) {
          this.#stmt.putSetting.run(WATERMARK_KEY, String(rows[result.examined - 1]!.delivery_id));
        }
        orphaned.push(...result.orphanedFiles);
        const { examined, duplicates, settled, blocked } = result;
        return { examined, duplicates, settled, blocked };
      },
      { fsync: false },
    );
    if (orphaned.length > 0) {
      // The fold above committed without an fsync; a power cut could bring its duplicate rows back, so
      // their files go only after a durable commit has carried the fold to disk.
      await this.#write('flush folded duplicates', () => this.#stmt.putSetting.run('last_fold_at', String(now)));
      await this.#spool.remove(orphaned);
    }
    if (pass.settled.length > 0) this.#emitSettled();
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

  /** Takes the next settlement number; only inside a write transaction. */
  #nextSettledSeq(): number {
    const current = Number(this.#stmt.getSetting.get(SETTLED_SEQ_KEY)?.value ?? 0);
    this.#stmt.putSetting.run(SETTLED_SEQ_KEY, String(current + 1));
    return current + 1;
  }

  /** Emits every settlement committed (by any process) since the last one emitted, in order. */
  #emitSettled(): void {
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
  }

  /** While someone listens: notice other processes' commits (`data_version` changes) and emit theirs. */
  #checkForeignCommits(): void {
    if (this.#closed) return;
    const version = this.#db.pragma('data_version', { simple: true }) as number;
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.#emitSettled();
  }

  async updateSubmission(
    requestId: string,
    update: { state: SubmitState; jobId?: string; error?: string },
  ): Promise<void> {
    await this.#write('record the submission', () => {
      this.#stmt.updateSubmission.run(update.state, update.jobId ?? null, update.error ?? null, Date.now(), requestId);
    });
  }

  async markInterruptedSubmissions(): Promise<string[]> {
    return this.#write('mark interrupted submissions', () =>
      this.#stmt.interrupted.all(Date.now()).map((r) => r.request_id),
    );
  }

  async listDueForCheck(nowMs: number, firstCheckAfterMs: number, limit: number): Promise<RequestRecord[]> {
    const sql = `SELECT ${REQUEST_COLUMNS} FROM requests r
      WHERE r.state = 'pending' AND r.job_id IS NOT NULL
        AND COALESCE(r.next_check_at, r.created_at + @delay) <= @now
      ORDER BY COALESCE(r.next_check_at, r.created_at + @delay) LIMIT @limit`;
    return this.#read((watermark) =>
      this.#db
        .prepare<Record<string, unknown>, RequestRow>(sql)
        .all({ delay: firstCheckAfterMs, now: nowMs, limit, watermark })
        .map(toRequestRecord),
    );
  }

  async countNotYetDue(
    nowMs: number,
    firstCheckAfterMs: number,
  ): Promise<{ count: number; nextDueAtMs: number | null }> {
    const sql = `SELECT COUNT(*) AS count, MIN(COALESCE(r.next_check_at, r.created_at + @delay)) AS nextDueAtMs
      FROM requests r WHERE r.state = 'pending' AND r.job_id IS NOT NULL
        AND COALESCE(r.next_check_at, r.created_at + @delay) > @now`;
    return this.#read(() =>
      this.#db
        .prepare<Record<string, unknown>, { count: number; nextDueAtMs: number | null }>(sql)
        .get({ delay: firstCheckAfterMs, now: nowMs })!,
    );
  }

  async scheduleCheck(requestId: string, nextCheckAtMs: number): Promise<void> {
    await this.#write('schedule a status check', () => {
      this.#stmt.scheduleCheck.run(nextCheckAtMs, Date.now(), requestId);
    });
  }

  async markExpired(requestId: string): Promise<boolean> {
    const now = Date.now();
    const changed = await this.#write('mark the request expired', () => {
      const pending = this.#stmt.requestState.get(requestId)?.state === 'pending';
      if (pending) this.#stmt.settle.run('expired', null, now, now, this.#nextSettledSeq(), requestId);
      return pending;
    });
    if (changed) this.#emitSettled();
    return changed;
  }

  async getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined> {
    const row = this.#read((watermark) => this.#stmt.deliveryById.get({ id: deliveryId, watermark }));
    return row ? this.#toRecord(row) : undefined;
  }

  /** Spooled bodies are read from their file, asynchronously, after the snapshot's transaction. */
  async #toRecord(row: DeliveryRow): Promise<DeliveryRecord> {
    return toDeliveryRecord(row, row.body_file ? await this.#spool.read(row.body_file) : undefined);
  }

  async registerHandler(name: string): Promise<void> {
    await this.#write('register a handler', () => this.#runs.register(name));
  }

  async claimHandlerRuns(
    handler: string,
    api: string | null,
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<HandlerRun[]> {
    return this.#write('claim handler runs', () => this.#runs.claim(handler, api, nowMs, leaseMs, limit));
  }

  async completeHandlerRun(
    handler: string,
    requestId: string,
    outcome: { ok: true } | { ok: false; error: string; retryAtMs: number | null },
  ): Promise<void> {
    await this.#write('complete a handler run', () => this.#runs.complete(handler, requestId, outcome, Date.now()));
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
    return this.#read((watermark) => {
      const params = { id: requestIdOrJobId, watermark };
      const row = this.#stmt.byRequestId.get(params) ?? this.#stmt.byJobId.get(params);
      return row ? toRequestRecord(row) : undefined;
    });
  }

  async listRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    const where: string[] = [];
    if (query.state === 'rejected' || query.state === 'unknown') {
      where.push("r.state = 'pending' AND r.submit_state = @state");
    } else if (query.state === 'pending') {
      where.push("r.state = 'pending' AND r.submit_state NOT IN ('rejected', 'unknown')");
    } else if (query.state) where.push('r.state = @state');
    if (query.api) where.push('r.api = @api');
    if (query.parentRequestId) where.push('r.parent_request_id = @parentRequestId');
    const sql = `SELECT ${REQUEST_COLUMNS} FROM requests r ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY r.created_at DESC, r.request_id DESC LIMIT @limit`;
    return this.#read((watermark) =>
      this.#db
        .prepare<Record<string, unknown>, RequestRow>(sql)
        .all({
          state: query.state,
          api: query.api,
          parentRequestId: query.parentRequestId,
          limit: query.limit ?? 100,
          watermark,
        })
        .map(toRequestRecord),
    );
  }

  async listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    const rows = this.#read((watermark) => this.#stmt.deliveriesOf.all({ requestId, watermark }));
    return Promise.all(rows.map((row) => this.#toRecord(row)));
  }

  onSettled(listener: (event: RequestSettledEvent) => void): () => void {
    this.#events.on('settled', listener);
    if (!this.#watch) {
      this.#watch = setInterval(() => this.#checkForeignCommits(), this.#watchIntervalMs);
      this.#watch.unref();
    }
    return () => {
      this.#events.off('settled', listener);
      if (this.#events.listenerCount('settled') === 0 && this.#watch) {
        clearInterval(this.#watch);
        this.#watch = null;
      }
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watch) clearInterval(this.#watch);
    this.#writer.stop();
    this.#db.close();
  }
}
