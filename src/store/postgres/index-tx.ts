import type pg from 'pg';
import type {
  DeliveryRules,
  EnvelopeParseResult,
  InsightsKey,
  RequestKind,
  RequestOrigin,
  RequestSettledEvent,
} from '../../types.js';
import type { ClaimedReceipt, IndexTx, RequestEntry } from '../index-plan.js';
import type { Claim } from './index-pass.js';
import { notifyInsights, pgNotificationTx } from './notifications.js';
import { settle } from './settle.js';

/**
 * `IndexTx` on one PostgreSQL transaction, over receipts claimed by index-pass.ts. The plan asks row by
 * row; answering each step with a round trip would cost thousands per pass, so the reads are fetched in
 * bulk up front and the writes are kept and sent in bulk by `flush()` before the commit:
 * - `prepare()` locks every request those receipts name, in one statement in request-id order (two passes
 *   sharing requests queue on the first, instead of deadlocking by locking in receipt order), then reads
 *   the indexed deliveries byte-identical to the receipts. While a request's lock is held no other pass
 *   indexes into it, so what was read stays true until the commit; the steps' own writes are kept in the
 *   same maps, so the plan sees them.
 * Rarer steps are immediate statements (a request created for a receipt, a job's request looked up, a
 * request learning its jobId): later steps must see them; the requests this pass makes for further jobs on
 * one callback URL are kept and inserted first by `flush()`, as only this pass reads them before the commit.
 */

/**
 * A value for a text column: PostgreSQL's text refuses NUL, which a JSON body may carry in any string (and
 * V8 quotes in its parse errors). One receipt the pass cannot write would fail every pass behind it (the
 * claim takes the oldest first), so NUL becomes U+FFFD here, the bytes themselves stay intact in `deliveries.body`.
 */
const pgText = (value: string | null | undefined): string | null => value?.replaceAll('\u0000', '\uFFFD') ?? null;

const REQUEST_ENTRY = `state, job_id AS "jobId", api, kind, origin, callback_url AS "callbackUrl"`;
const dedupKey = (requestId: string, source: string, sha: Buffer): string =>
  `${requestId}\n${source}\n${sha.toString('hex')}`;

type NewJobRequest = Parameters<IndexTx['insertJobRequest']>[0];

interface IndexRow {
  receipt: ClaimedReceipt;
  requestId: string;
  parsed: EnvelopeParseResult;
}

export class PgIndexTx implements IndexTx {
  /** Requests locked by this pass, as last read or written. */
  readonly #requests = new Map<string, RequestEntry>();
  /** Named by a claimed receipt but absent when locked: the first read says so without a query. */
  readonly #missing = new Set<string>();
  /** Indexed deliveries by dedup key: those read in `prepare()` and those this pass indexes. */
  readonly #identical = new Map<string, number>();
  /** Dedup keys whose answer `#identical` holds (read under the request's lock), and requests made here. */
  readonly #known = new Set<string>();
  readonly #createdHere = new Set<string>();
  readonly #jobsHere = new Map<string, string>();
  /** Requests of further jobs on a callback URL, created by this pass: inserted by `flush()`, first. */
  readonly #newRequests = new Map<string, NewJobRequest>();
  readonly #indexed: IndexRow[] = [];
  readonly #folds = new Map<number, { count: number; lastAt: number }>();
  readonly #deleted: number[] = [];
  readonly #settled: RequestSettledEvent[] = [];
  /** Insight records given a new version by this pass: hinted by `flush()`. */
  readonly insights: InsightsKey[] = [];
  readonly #notes;

  private constructor(
    readonly client: pg.PoolClient,
    readonly claimed: Claim,
    readonly rules: DeliveryRules,
    readonly preparsed: ReadonlyMap<number, EnvelopeParseResult> | undefined,
  ) {
    this.#notes = pgNotificationTx(client, claimed.nowMs, (key) => this.insights.push(key));
  }

  findEvent(uuid: string): Promise<number | undefined> {
    return this.#notes.findEvent(uuid) as Promise<number | undefined>;
  }
  insertEvent(row: Parameters<IndexTx['insertEvent']>[0]): Promise<void> {
    return this.#notes.insertEvent(row) as Promise<void>;
  }
  topicHandlers(): Promise<{ name: string; topic: string }[]> {
    return this.#notes.topicHandlers() as Promise<{ name: string; topic: string }[]>;
  }
  insertRun(handler: string, eventKey: string, requestId: string, deliveryId: number): Promise<void> {
    return this.#notes.insertRun(handler, eventKey, requestId, deliveryId) as Promise<void>;
  }
  upsertInsights(row: Parameters<IndexTx['upsertInsights']>[0]): Promise<boolean> {
    return this.#notes.upsertInsights(row) as Promise<boolean>;
  }

  static async prepare(
    client: pg.PoolClient,
    claimed: Claim,
    rules: DeliveryRules,
    preparsed?: ReadonlyMap<number, EnvelopeParseResult>,
  ): Promise<PgIndexTx> {
    const tx = new PgIndexTx(client, claimed, rules, preparsed);
    const ids = [...new Set(claimed.receipts.map((r) => r.requestId))].sort();
    const locked = await client.query<RequestEntry & { request_id: string }>(
      `SELECT request_id, ${REQUEST_ENTRY} FROM requests WHERE request_id = ANY($1::text[])
       ORDER BY request_id FOR UPDATE`,
      [ids],
    );
    for (const row of locked.rows) {
      const { request_id: id, ...entry } = row;
      tx.#requests.set(id, entry);
    }
    for (const id of ids) if (!tx.#requests.has(id)) tx.#missing.add(id);
    const probes = claimed.receipts.filter((r) => tx.#requests.has(r.requestId));
    const found = await client.query<{ request_id: string; source: string; body_sha256: Buffer; delivery_id: number }>(
      `SELECT i.request_id, i.source, i.body_sha256, i.delivery_id
       FROM delivery_index i JOIN unnest($1::text[], $2::text[], $3::bytea[]) AS p(request_id, source, sha)
         ON i.request_id = p.request_id AND i.source = p.source AND i.body_sha256 = p.sha`,
      [probes.map((r) => r.requestId), probes.map((r) => r.source), probes.map((r) => r.bodySha256)],
    );
    for (const r of probes) tx.#known.add(dedupKey(r.requestId, r.source, r.bodySha256));
    for (const row of found.rows) {
      tx.#identical.set(dedupKey(row.request_id, row.source, row.body_sha256), row.delivery_id);
    }
    return tx;
  }

  async requestState(requestId: string): Promise<RequestEntry | undefined> {
    const known = this.#requests.get(requestId);
    if (known) return known;
    if (this.#missing.delete(requestId)) return undefined;
    const { rows } = await this.client.query<RequestEntry>(
      `SELECT ${REQUEST_ENTRY} FROM requests WHERE request_id = $1 FOR UPDATE`,
      [requestId],
    );
    if (rows[0]) this.#requests.set(requestId, rows[0]);
    return rows[0];
  }

  async ensureRequest(requestId: string, origin: RequestOrigin, acceptedPath: string | null, atMs: number) {
    // Another pass may be creating it too: the insert then waits for that one's commit and does nothing,
    // and the plan's re-read below locks the row it made.
    const { rows } = await this.client.query<RequestEntry>(
      `INSERT INTO requests (request_id, kind, origin, callback_url, created_at, updated_at)
       VALUES ($1, 'job', $2, $3, $4, $4) ON CONFLICT (request_id) DO NOTHING RETURNING ${REQUEST_ENTRY}`,
      [requestId, origin, acceptedPath, atMs],
    );
    if (rows[0]) {
      this.#requests.set(requestId, rows[0]);
      this.#createdHere.add(requestId);
    }
  }

  async findIdentical(requestId: string, source: string, bodySha256: Buffer): Promise<number | undefined> {
    const key = dedupKey(requestId, source, bodySha256);
    const known = this.#identical.get(key);
    if (known !== undefined || this.#known.has(key) || this.#createdHere.has(requestId)) return known;
    const { rows } = await this.client.query<{ delivery_id: number }>(
      'SELECT delivery_id FROM delivery_index WHERE request_id = $1 AND source = $2 AND body_sha256 = $3',
      [requestId, source, bodySha256],
    );
    this.#known.add(key);
    if (rows[0]) this.#identical.set(key, rows[0].delivery_id);
    return rows[0]?.delivery_id;
  }

  foldDuplicate(receipt: ClaimedReceipt, intoDeliveryId: number): void {
    const fold = this.#folds.get(intoDeliveryId) ?? { count: 0, lastAt: receipt.receivedAtMs };
    fold.count++;
    fold.lastAt = Math.max(fold.lastAt, receipt.receivedAtMs);
    this.#folds.set(intoDeliveryId, fold);
    this.#deleted.push(receipt.deliveryId);
  }

  async requestOfJob(jobId: string, origin: RequestOrigin): Promise<string | undefined> {
    const here = this.#jobsHere.get(`${origin}\n${jobId}`);
    if (here !== undefined) return here;
    // Named: prepared once per connection, as this runs once per further job on a callback URL.
    const { rows } = await this.client.query<{ request_id: string }>({
      name: 'jobhook-request-of-job',
      text: 'SELECT request_id FROM requests WHERE job_id = $1 AND origin = $2 ORDER BY created_at DESC LIMIT 1',
      values: [pgText(jobId), origin],
    });
    return rows[0]?.request_id;
  }

  /** Kept for `flush()`: nothing reads the new request but this pass (and its own maps) before the commit. */
  insertJobRequest(row: NewJobRequest): void {
    this.#newRequests.set(row.requestId, { ...row });
    this.#createdHere.add(row.requestId);
    this.#jobsHere.set(`${row.origin}\n${row.jobId}`, row.requestId);
  }

  /** Nothing now: the receipt's request is rewritten with its `indexed_at`, from `insertIndex`'s request. */
  moveDelivery(): void {}

  async parse(receipt: ClaimedReceipt, kind: RequestKind): Promise<EnvelopeParseResult> {
    const given = this.preparsed?.get(receipt.deliveryId);
    if (given) return given;
    let body = this.claimed.bodies.get(receipt.deliveryId);
    if (!body) {
      const { rows } = await this.client.query<{ body: Buffer }>('SELECT body FROM deliveries WHERE delivery_id = $1', [
        receipt.deliveryId,
      ]);
      body = rows[0]!.body;
    }
    return this.rules.parse(body, kind);
  }

  insertIndex(receipt: ClaimedReceipt, requestId: string, parsed: EnvelopeParseResult): void {
    this.#indexed.push({ receipt, requestId, parsed });
    const key = dedupKey(requestId, receipt.source, receipt.bodySha256);
    this.#identical.set(key, receipt.deliveryId);
  }

  async learnFromEnvelope(requestId: string, jobId: string | null, api: string | null): Promise<void> {
    const created = this.#newRequests.get(requestId);
    if (created) {
      created.api ??= api;
      return;
    }
    await this.client.query(
      `UPDATE requests SET job_id = COALESCE(job_id, $2), api = COALESCE(api, $3), updated_at = $4
       WHERE request_id = $1`,
      [requestId, pgText(jobId), pgText(api), this.claimed.nowMs],
    );
  }

  settle(event: RequestSettledEvent): void {
    this.#settled.push(event);
  }

  /**
   * Writes what the steps kept, in an order that respects their dependencies: index rows (folds may count
   * into one indexed in this pass), receipts marked indexed (and moved), folds, folded receipts deleted,
   * then settlements with their handler runs and hints (`pg_notify`, delivered only if this commits).
   */
  async flush(channel: string, ownerTag: string): Promise<void> {
    const now = this.claimed.nowMs;
    if (this.#newRequests.size > 0) await insertRequests(this.client, [...this.#newRequests.values()]);
    const rows = this.#indexed;
    if (rows.length > 0) {
      const e = (row: IndexRow) => (row.parsed.ok ? row.parsed.envelope : null);
      await this.client.query(
        `INSERT INTO delivery_index (delivery_id, request_id, source, body_sha256, first_received_at,
           last_received_at, parse_state, parse_error, job_id, api, status, creation_time, completion_time,
           expiration_time)
         SELECT id, request_id, source, sha, received_at, received_at, parse_state, parse_error, job_id, api,
           status, creation_time, completion_time, expiration_time
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::text[], $7::text[],
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
           AS u(id, request_id, source, sha, received_at, parse_state, parse_error, job_id, api, status,
             creation_time, completion_time, expiration_time)`,
        [
          rows.map((r) => r.receipt.deliveryId),
          rows.map((r) => r.requestId),
          rows.map((r) => r.receipt.source),
          rows.map((r) => r.receipt.bodySha256),
          rows.map((r) => r.receipt.receivedAtMs),
          rows.map((r) => (r.parsed.ok ? 'parsed' : 'unparseable')),
          rows.map((r) => pgText(r.parsed.ok ? null : r.parsed.error)),
          rows.map((r) => pgText(e(r)?.jobId)),
          rows.map((r) => pgText(e(r)?.api)),
          rows.map((r) => pgText(e(r)?.status)),
          rows.map((r) => pgText(e(r)?.creationTime)),
          rows.map((r) => pgText(e(r)?.completionTime)),
          rows.map((r) => pgText(e(r)?.expirationTime)),
        ],
      );
      await this.client.query(
        `UPDATE deliveries d SET indexed_at = $1, request_id = u.request_id
         FROM unnest($2::bigint[], $3::text[]) AS u(id, request_id) WHERE d.delivery_id = u.id`,
        [now, rows.map((r) => r.receipt.deliveryId), rows.map((r) => r.requestId)],
      );
    }
    if (this.#folds.size > 0) {
      const folds = [...this.#folds];
      await this.client.query(
        `UPDATE delivery_index i SET count = i.count + u.n, last_received_at = GREATEST(i.last_received_at, u.last_at)
         FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS u(id, n, last_at) WHERE i.delivery_id = u.id`,
        [folds.map(([id]) => id), folds.map(([, f]) => f.count), folds.map(([, f]) => f.lastAt)],
      );
      await this.client.query('DELETE FROM deliveries WHERE delivery_id = ANY($1::bigint[])', [this.#deleted]);
    }
    if (this.#settled.length > 0) await settle(this.client, this.#settled, now, channel, ownerTag);
    await notifyInsights(this.client, this.insights, channel, ownerTag);
  }
}

async function insertRequests(client: pg.PoolClient, rows: readonly NewJobRequest[]): Promise<void> {
  await client.query(
    `INSERT INTO requests (request_id, kind, origin, api, callback_url, job_id, parent_request_id, created_at, updated_at)
     SELECT u.*, u.created_at FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::bigint[]) AS u(request_id, kind, origin, api, callback_url, job_id, parent_request_id, created_at)`,
    [
      rows.map((r) => r.requestId),
      rows.map((r) => r.kind),
      rows.map((r) => r.origin),
      rows.map((r) => pgText(r.api)),
      rows.map((r) => r.callbackUrl),
      rows.map((r) => pgText(r.jobId)),
      rows.map((r) => r.parentRequestId),
      rows.map((r) => r.atMs),
    ],
  );
}
