import type pg from 'pg';
import type { DeliveryRules, EnvelopeParseResult, IndexPass } from '../../types.js';
import { indexPlan, runIndexPlanAsync, type ClaimedReceipt } from '../index-plan.js';
import { NOW_MS, type Database } from './database.js';
import { PgIndexTx } from './index-tx.js';

/**
 * One indexing pass on PostgreSQL, in one transaction: claim receipts not indexed yet (`FOR UPDATE SKIP
 * LOCKED`: instances side by side take disjoint pages, and a receipt whose sequence number was taken
 * before a later one committed is still found, by its own state), run the shared plan (index-plan.ts)
 * over them with `PgIndexTx`, write what it decided, commit. A crash or a failed commit leaves the
 * receipts unindexed for the next pass, here or in another instance. Deadlocks are retried by `db.tx`.
 */

/** Bodies up to this size come with the claim; larger ones are read one at a time when parsed. */
const INLINE_BODY_BYTES = 64 * 1024;

interface ClaimRow {
  delivery_id: number;
  request_id: string;
  source: string;
  body_sha256: Buffer;
  received_at: number;
  accepted_path: string | null;
  body: Buffer | null;
  now: number;
}

export interface Claim {
  receipts: ClaimedReceipt[];
  bodies: Map<number, Buffer>;
  nowMs: number;
}

/** Claims up to `limit` receipts not indexed yet, oldest first; null when there are none free. */
export async function claim(client: pg.PoolClient, limit: number): Promise<Claim | null> {
  const { rows } = await client.query<ClaimRow>(
    `SELECT delivery_id, request_id, source, body_sha256, received_at, accepted_path,
       CASE WHEN octet_length(body) <= $2 THEN body END AS body, ${NOW_MS} AS now
     FROM deliveries WHERE indexed_at IS NULL ORDER BY delivery_id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit, INLINE_BODY_BYTES],
  );
  if (rows.length === 0) return null;
  const bodies = new Map<number, Buffer>();
  const receipts = rows.map((r): ClaimedReceipt => {
    if (r.body !== null) bodies.set(r.delivery_id, r.body);
    return {
      deliveryId: r.delivery_id,
      requestId: r.request_id,
      source: r.source,
      bodySha256: r.body_sha256,
      receivedAtMs: r.received_at,
      acceptedPath: r.accepted_path,
      bodyFile: null,
    };
  });
  return { receipts, bodies, nowMs: rows[0]!.now };
}

export async function runIndexPass(
  db: Database,
  rules: DeliveryRules,
  limit: number,
  preparsed: ReadonlyMap<number, EnvelopeParseResult> | undefined,
  hints: { channel: string; ownerTag: string },
): Promise<IndexPass> {
  return db.tx('index deliveries', async (client) => {
    const claimed = await claim(client, limit);
    if (!claimed) return { examined: 0, duplicates: 0, settled: [], blocked: false, insights: [] };
    const tx = await PgIndexTx.prepare(client, claimed, rules, preparsed);
    const plan = await runIndexPlanAsync(indexPlan(tx, claimed.receipts, rules, claimed.nowMs));
    await tx.flush(hints.channel, hints.ownerTag);
    const { examined, duplicates, settled, blocked, insights } = plan;
    return { examined, duplicates, settled, blocked, insights };
  });
}
