import type pg from 'pg';
import type { EventRecord, InsightsKey, InsightsRecord, SubscriptionInput, SubscriptionRecord } from '../../types.js';
import { EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX } from '../../types.js';
import type { IndexTx } from '../index-plan.js';
import type { EventQuery } from '../store.js';
import {
  subscriptionValues,
  toEventRecord,
  toInsightsRecord,
  toSubscriptionRecord,
  type EventRow,
  type InsightsRow,
  type SubscriptionRow,
} from '../notification-rows.js';
import { NOW_MS, type Database } from './database.js';

/**
 * Subscriptions, named leases, push events and ACE insight records on PostgreSQL (migration 0002); rows map
 * to records as in SQLite. Leases run on the database's clock. The index steps run inside the indexing
 * pass's transaction; a new insight version's hint is sent with `pg_notify` in that same transaction.
 */
const SUBSCRIPTION_SELECT = `SELECT s.*, (SELECT MAX(e.received_at) FROM events e WHERE e.request_id = s.request_id)
  AS last_event_at FROM subscriptions s`;

export class PgNotifications {
  constructor(
    readonly db: Database,
    readonly owner: string,
  ) {}

  async save(input: SubscriptionInput): Promise<void> {
    await this.db.query(
      'save a subscription',
      `INSERT INTO subscriptions (name, request_id, event_filters, expires_in, platform_id, address, status, expires_at,
         disabled_filters, blacklisted_data, last_error, checked_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ${NOW_MS}, ${NOW_MS})
       ON CONFLICT (name) DO UPDATE SET request_id = excluded.request_id, event_filters = excluded.event_filters,
         expires_in = excluded.expires_in, platform_id = excluded.platform_id, address = excluded.address,
         status = excluded.status, expires_at = excluded.expires_at, disabled_filters = excluded.disabled_filters,
         blacklisted_data = excluded.blacklisted_data, last_error = excluded.last_error,
         checked_at = excluded.checked_at, updated_at = excluded.updated_at`,
      subscriptionValues(input),
    );
  }

  async find(nameOrPlatformId: string): Promise<SubscriptionRecord | undefined> {
    const { rows } = await this.db.query<SubscriptionRow>(
      'find a subscription',
      `${SUBSCRIPTION_SELECT} WHERE s.name = $1 OR s.platform_id = $1 ORDER BY (s.name = $1) DESC LIMIT 1`,
      [nameOrPlatformId],
    );
    return rows[0] ? toSubscriptionRecord(rows[0]) : undefined;
  }

  async list(): Promise<SubscriptionRecord[]> {
    const { rows } = await this.db.query<SubscriptionRow>(
      'list subscriptions',
      `${SUBSCRIPTION_SELECT} ORDER BY s.name`,
    );
    return rows.map(toSubscriptionRecord);
  }

  async remove(name: string): Promise<boolean> {
    const result = await this.db.query('remove a subscription', 'DELETE FROM subscriptions WHERE name = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  }

  async holdLease(name: string, leaseMs: number): Promise<boolean> {
    const { rows } = await this.db.query(
      'hold a lease',
      `INSERT INTO leases (name, owner, lease_until) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
         WHERE leases.owner = excluded.owner OR leases.lease_until <= ${NOW_MS}
       RETURNING owner`,
      [name, this.owner, leaseMs],
    );
    return rows.length > 0;
  }

  async releaseLease(name: string): Promise<void> {
    await this.db.query('release a lease', 'DELETE FROM leases WHERE name = $1 AND owner = $2', [name, this.owner]);
  }

  async listEvents(query: EventQuery): Promise<EventRecord[]> {
    const { rows } = await this.db.query<EventRow>(
      'list events',
      `SELECT * FROM events WHERE ($1::text IS NULL OR request_id = $1) AND ($3::text IS NULL OR uuid = $3)
         AND ($5::text IS NULL OR (record_domain = $4 AND record_id = $5))
       ORDER BY received_at DESC, delivery_id DESC LIMIT $2`,
      [
        query.requestId ?? null,
        query.limit ?? 100,
        query.uuid ?? null,
        query.record?.domain ?? null,
        query.record?.sourceRecordId ?? null,
      ],
    );
    return rows.map(toEventRecord);
  }

  async findInsights(key: InsightsKey): Promise<InsightsRecord | undefined> {
    const { rows } = await this.db.query<InsightsRow>(
      'read an insight record',
      'SELECT * FROM insights WHERE domain = $1 AND source_record_id = $2',
      [key.domain, key.sourceRecordId],
    );
    return rows[0] ? toInsightsRecord(rows[0]) : undefined;
  }

  async listInsights(query: { domain?: string; limit?: number }): Promise<InsightsRecord[]> {
    const { rows } = await this.db.query<InsightsRow>(
      'list insight records',
      `SELECT * FROM insights WHERE $1::text IS NULL OR domain = $1 ORDER BY updated_at DESC, seq DESC LIMIT $2`,
      [query.domain ?? null, query.limit ?? 100],
    );
    return rows.map(toInsightsRecord);
  }
}

/**
 * The index steps of events and insight records on the pass's connection. They are immediate statements
 * (notifications are far fewer than job receipts); the request's row lock, taken first by the pass, orders
 * passes over one subscription's events, and the insights upsert's row lock orders a webhook against a
 * backfill of the same record.
 */
export function pgNotificationTx(
  client: pg.PoolClient,
  nowMs: number,
  onNewVersion: (key: InsightsKey) => void,
): Pick<IndexTx, 'findEvent' | 'insertEvent' | 'topicHandlers' | 'insertRun' | 'upsertInsights'> {
  return {
    async findEvent(uuid) {
      const { rows } = await client.query<{ delivery_id: string }>('SELECT delivery_id FROM events WHERE uuid = $1', [
        uuid,
      ]);
      return rows[0] ? Number(rows[0].delivery_id) : undefined;
    },
    async insertEvent(row) {
      await client.query(
        `INSERT INTO events (uuid, request_id, delivery_id, event, subscription_id, event_time, record_domain, record_id,
           received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (uuid) DO NOTHING`,
        [
          row.uuid,
          row.requestId,
          row.deliveryId,
          row.event,
          row.subscriptionId,
          row.timestamp,
          row.record?.domain ?? null,
          row.record?.sourceRecordId ?? null,
          row.receivedAtMs,
        ],
      );
    },
    async topicHandlers() {
      const { rows } = await client.query<{ name: string; topic: string }>(
        `SELECT name, api AS topic FROM handlers WHERE starts_with(api, $1) OR starts_with(api, $2)`,
        [EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX],
      );
      return rows;
    },
    async insertRun(handler, eventKey, requestId, deliveryId) {
      await client.query(
        `INSERT INTO handler_runs (handler, event_key, request_id, delivery_id, state, attempts, next_attempt_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (handler, event_key) DO NOTHING`,
        [handler, eventKey, requestId, deliveryId, nowMs],
      );
    },
    async upsertInsights(row) {
      const { rows } = await client.query(
        `INSERT INTO insights (domain, source_record_id, source_session_id, title, last_modified_time, version_ms,
           delivery_id, request_id, source, versions, seq, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $10)
         ON CONFLICT (domain, source_record_id) DO UPDATE SET source_session_id = excluded.source_session_id,
           title = excluded.title, last_modified_time = excluded.last_modified_time, version_ms = excluded.version_ms,
           delivery_id = excluded.delivery_id, request_id = excluded.request_id, source = excluded.source,
           versions = insights.versions + 1, seq = excluded.seq, updated_at = excluded.updated_at
           WHERE excluded.version_ms > insights.version_ms
         RETURNING 1`,
        [
          row.key.domain,
          row.key.sourceRecordId,
          row.sourceSessionId,
          row.title,
          row.lastModifiedTime,
          row.versionMs,
          row.deliveryId,
          row.requestId,
          row.source,
          nowMs,
        ],
      );
      if (rows.length === 0) return false;
      onNewVersion(row.key);
      return true;
    },
  };
}

/** Sends the hints of new insight versions in the pass's transaction (delivered only if it commits). */
export async function notifyInsights(
  client: pg.PoolClient,
  keys: readonly InsightsKey[],
  channel: string,
  ownerTag: string,
): Promise<void> {
  if (keys.length === 0) return;
  await client.query(
    `SELECT pg_notify($1, json_build_object('insights', json_build_object('domain', d, 'sourceRecordId', r),
       'from', $2::text)::text) FROM unnest($3::text[], $4::text[]) AS u(d, r)`,
    [channel, ownerTag, keys.map((k) => k.domain), keys.map((k) => k.sourceRecordId)],
  );
}
