import { createHash } from 'node:crypto';
import type pg from 'pg';
import { JobhookError } from '../../errors.js';
import type { IncomingDelivery, RecordedDelivery, SpooledBody } from '../../types.js';
import type { MemoryBodies } from './body-sink.js';
import type { Database } from './database.js';

/** Rows per INSERT statement: 7 parameters each stays far below PostgreSQL's 65 535. */
const ROWS_PER_INSERT = 4000;

/**
 * The receiver's hot path on PostgreSQL: one group-commit batch is one multi-row INSERT, committed (with
 * the server's `synchronous_commit`, on by default) before any of its receipts is acknowledged. A batch
 * of up to 4000 receipts is a single statement in its own implicit transaction, one round trip; a larger
 * one is split into several statements inside one explicit transaction, so it still commits whole or not
 * at all. Nothing is parsed, deduplicated or indexed here, and no index but the primary key and the
 * small partial one of unindexed receipts is written.
 */
export async function recordReceipts(
  db: Database,
  bodies: MemoryBodies,
  batch: readonly IncomingDelivery[],
): Promise<RecordedDelivery[]> {
  db.assertOpen();
  if (batch.length === 0) return [];
  const spooled: SpooledBody[] = [];
  const rows = batch.map((d) => {
    let body: Buffer;
    if (Buffer.isBuffer(d.body)) body = d.body;
    else {
      if (d.bodySha256 === undefined) {
        throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'a spooled body needs its bodySha256');
      }
      body = bodies.bytesOf(d.body);
      spooled.push(d.body);
    }
    const sha = d.bodySha256 ?? createHash('sha256').update(body).digest();
    return [d.requestId, d.source, body, sha, JSON.stringify(d.rawHeaders), d.receivedAtMs, d.acceptedPath ?? null];
  });
  const ids =
    rows.length <= ROWS_PER_INSERT
      ? await insert((text, values) => db.query('record deliveries', text, values), rows)
      : await db.tx('record deliveries', async (client) => {
          const all: number[] = [];
          for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
            all.push(
              ...(await insert((text, values) => client.query(text, values), rows.slice(i, i + ROWS_PER_INSERT))),
            );
          }
          return all;
        });
  bodies.forget(spooled);
  return batch.map((d, i) => ({ deliveryId: ids[i]!, requestId: d.requestId }));
}

async function insert(
  run: (text: string, values: unknown[]) => Promise<pg.QueryResult<{ delivery_id: number }>>,
  chunk: unknown[][],
): Promise<number[]> {
  const values = chunk.map((_, i) => `(${[1, 2, 3, 4, 5, 6, 7].map((k) => `$${i * 7 + k}`).join(', ')})`);
  const { rows } = await run(
    `INSERT INTO deliveries (request_id, source, body, body_sha256, raw_headers, received_at, accepted_path)
     VALUES ${values.join(', ')} RETURNING delivery_id`,
    chunk.flat(),
  );
  // One statement takes its ids from the sequence in row order: sorted, they follow the batch.
  return rows.map((r) => r.delivery_id).sort((a, b) => a - b);
}
