import type { DeliveryRecord, RequestRecord } from '../../types.js';
import { toDeliveryRecord, toRequestRecord, type DeliveryRow, type RequestRow } from '../sqlite/rows.js';
import type { RequestQuery } from '../store.js';
import type { Database } from './database.js';
import { INDEXED_DELIVERIES, REQUEST_SELECT, UNINDEXED_DELIVERIES } from './rows.js';

/**
 * Reads for the inspector, the CLI and awaiting code, each one statement (one snapshot), and the prune of
 * requests that never led anywhere. The display states of `list` are the SQLite store's, in SQL.
 */
export class PgReader {
  constructor(readonly db: Database) {}

  async find(requestIdOrJobId: string): Promise<RequestRecord | undefined> {
    // A minted (verified) request wins over an accepted one with the same jobId: anyone who knows an
    // --accept path can post an envelope naming any jobId, and must not shadow the real job.
    const { rows } = await this.db.query<RequestRow>(
      'find a request',
      `(${REQUEST_SELECT} WHERE r.request_id = $1)
       UNION ALL
       (${REQUEST_SELECT} WHERE r.job_id = $1 ORDER BY (r.origin = 'minted') DESC, r.created_at DESC LIMIT 1)
       LIMIT 1`,
      [requestIdOrJobId],
    );
    return rows[0] ? toRequestRecord(rows[0]) : undefined;
  }

  async list(query: RequestQuery = {}): Promise<RequestRecord[]> {
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
    const { rows } = await this.db.query<RequestRow>(
      'list requests',
      `${REQUEST_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.created_at DESC, r.request_id DESC LIMIT $1`,
      values,
    );
    return rows.map(toRequestRecord);
  }

  async listDeliveries(requestId: string): Promise<DeliveryRecord[]> {
    const { rows } = await this.db.query<DeliveryRow>(
      'list deliveries',
      `${INDEXED_DELIVERIES} WHERE i.request_id = $1
       UNION ALL ${UNINDEXED_DELIVERIES} AND d.request_id = $1
       ORDER BY delivery_id`,
      [requestId],
    );
    return rows.map((row) => toDeliveryRecord(row));
  }

  async getDelivery(deliveryId: number): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.db.query<DeliveryRow>(
      'read a delivery',
      `${INDEXED_DELIVERIES} WHERE i.delivery_id = $1 UNION ALL ${UNINDEXED_DELIVERIES} AND d.delivery_id = $1`,
      [deliveryId],
    );
    return rows[0] ? toDeliveryRecord(rows[0]) : undefined;
  }

  /** Only requests nothing refers to: no receipt (indexed or not), no handler run, no other job's parent. */
  async prune(state: 'rejected' | 'unknown', createdBeforeMs: number): Promise<number> {
    const result = await this.db.query(
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
}
