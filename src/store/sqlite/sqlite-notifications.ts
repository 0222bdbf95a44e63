import type Database from 'better-sqlite3';
import type { EventRecord, InsightsKey, InsightsRecord, SubscriptionInput, SubscriptionRecord } from '../../types.js';
import type { IndexTx } from '../index-plan.js';
import { EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX } from '../../types.js';

/**
 * SQL of subscriptions, named leases, push events and ACE insight records (migration 0005); the store runs
 * the writes inside its transactions. SQLite's clock is this machine's (the file is local): `Date.now()`.
 */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const msOf = (at: string | null): number | null => (at === null ? null : Date.parse(at));

interface SubscriptionRow {
  name: string;
  request_id: string;
  event_filters: string;
  expires_in: number;
  platform_id: string | null;
  address: string | null;
  status: string;
  expires_at: number | null;
  disabled_filters: string;
  blacklisted_data: string | null;
  last_error: string | null;
  checked_at: number | null;
  created_at: number;
  updated_at: number;
  last_event_at: number | null;
}

interface EventRow {
  uuid: string;
  request_id: string;
  delivery_id: number;
  event: string;
  subscription_id: string | null;
  event_time: string | null;
  received_at: number;
}

interface InsightsRow {
  domain: string;
  source_record_id: string;
  source_session_id: string | null;
  title: string | null;
  last_modified_time: string | null;
  delivery_id: number;
  request_id: string;
  source: string;
  versions: number;
  seq: number;
  created_at: number;
  updated_at: number;
}

export function toSubscriptionRecord(row: SubscriptionRow): SubscriptionRecord {
  return {
    name: row.name,
    requestId: row.request_id,
    eventFilters: JSON.parse(row.event_filters) as string[],
    expiresIn: row.expires_in,
    platformId: row.platform_id,
    address: row.address,
    status: row.status,
    expiresAt: iso(row.expires_at === null ? null : row.expires_at),
    disabledFilters: JSON.parse(row.disabled_filters) as unknown[],
    blacklistedData: row.blacklisted_data === null ? null : (JSON.parse(row.blacklisted_data) as unknown),
    lastError: row.last_error,
    checkedAt: iso(row.checked_at === null ? null : row.checked_at),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    lastEventAt: iso(row.last_event_at === null ? null : row.last_event_at),
  };
}

/** The row values of a subscription to save (shared with PostgreSQL), in column order. */
export function subscriptionValues(input: SubscriptionInput): unknown[] {
  return [
    input.name,
    input.requestId,
    JSON.stringify(input.eventFilters),
    input.expiresIn,
    input.platformId,
    input.address,
    input.status,
    msOf(input.expiresAt),
    JSON.stringify(input.disabledFilters),
    input.blacklistedData === null || input.blacklistedData === undefined
      ? null
      : JSON.stringify(input.blacklistedData),
    input.lastError,
    msOf(input.checkedAt),
  ];
}

export function toEventRecord(row: EventRow): EventRecord {
  return {
    uuid: row.uuid,
    requestId: row.request_id,
    deliveryId: row.delivery_id,
    event: row.event,
    subscriptionId: row.subscription_id,
    timestamp: row.event_time,
    receivedAt: new Date(row.received_at).toISOString(),
  };
}

export function toInsightsRecord(row: InsightsRow): InsightsRecord {
  return {
    domain: row.domain,
    sourceRecordId: row.source_record_id,
    sourceSessionId: row.source_session_id,
    title: row.title,
    lastModifiedTime: row.last_modified_time,
    deliveryId: row.delivery_id,
    requestId: row.request_id,
    source: row.source as InsightsRecord['source'],
    versions: row.versions,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const SUBSCRIPTION_COLUMNS = `s.*, (SELECT MAX(e.received_at) FROM events e WHERE e.request_id = s.request_id) AS last_event_at`;

/** @internal */
export type NotificationStatements = ReturnType<typeof prepareNotificationStatements>;

/** @internal */
export function prepareNotificationStatements(db: Database.Database) {
  return {
    saveSubscription: db.prepare(
      `INSERT INTO subscriptions (name, request_id, event_filters, expires_in, platform_id, address, status, expires_at,
         disabled_filters, blacklisted_data, last_error, checked_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET request_id = excluded.request_id, event_filters = excluded.event_filters,
         expires_in = excluded.expires_in, platform_id = excluded.platform_id, address = excluded.address,
         status = excluded.status, expires_at = excluded.expires_at, disabled_filters = excluded.disabled_filters,
         blacklisted_data = excluded.blacklisted_data, last_error = excluded.last_error,
         checked_at = excluded.checked_at, updated_at = excluded.updated_at`,
    ),
    subscriptionByName: db.prepare<[string], SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s WHERE s.name = ?`,
    ),
    subscriptionByPlatformId: db.prepare<[string], SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s WHERE s.platform_id = ?`,
    ),
    listSubscriptions: db.prepare<[], SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s ORDER BY s.name`,
    ),
    removeSubscription: db.prepare('DELETE FROM subscriptions WHERE name = ?'),
    holdLease: db.prepare<{ name: string; owner: string; until: number; now: number }, { owner: string }>(
      `INSERT INTO leases (name, owner, lease_until) VALUES (@name, @owner, @until)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
         WHERE leases.owner = excluded.owner OR leases.lease_until <= @now
       RETURNING owner`,
    ),
    releaseLease: db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?'),
    findEvent: db.prepare<[string], { delivery_id: number }>('SELECT delivery_id FROM events WHERE uuid = ?'),
    insertEvent: db.prepare(
      `INSERT INTO events (uuid, request_id, delivery_id, event, subscription_id, event_time, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    topicHandlers: db.prepare<{ a: string; b: string }, { name: string; topic: string }>(
      `SELECT name, api AS topic FROM handlers WHERE substr(api, 1, length(@a)) = @a OR substr(api, 1, length(@b)) = @b`,
    ),
    insertRun: db.prepare(
      `INSERT INTO handler_runs (handler, event_key, request_id, delivery_id, next_attempt_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (handler, event_key) DO NOTHING`,
    ),
    upsertInsights: db.prepare<Record<string, unknown>, { seq: number }>(
      `INSERT INTO insights (domain, source_record_id, source_session_id, title, last_modified_time, version_ms,
         delivery_id, request_id, source, versions, seq, created_at, updated_at)
       VALUES (@domain, @sourceRecordId, @sourceSessionId, @title, @lastModifiedTime, @versionMs, @deliveryId,
         @requestId, @source, 1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM insights), @now, @now)
       ON CONFLICT (domain, source_record_id) DO UPDATE SET source_session_id = excluded.source_session_id,
         title = excluded.title, last_modified_time = excluded.last_modified_time, version_ms = excluded.version_ms,
         delivery_id = excluded.delivery_id, request_id = excluded.request_id, source = excluded.source,
         versions = insights.versions + 1, seq = excluded.seq, updated_at = excluded.updated_at
         WHERE excluded.version_ms > insights.version_ms
       RETURNING seq`,
    ),
    maxInsightsSeq: db.prepare<[], number>('SELECT COALESCE(MAX(seq), 0) FROM insights').pluck(),
    insightsSince: db.prepare<[number], InsightsRow>('SELECT * FROM insights WHERE seq > ? ORDER BY seq'),
    findInsights: db.prepare<[string, string], InsightsRow>(
      'SELECT * FROM insights WHERE domain = ? AND source_record_id = ?',
    ),
    listInsights: db.prepare<{ domain: string | null; limit: number }, InsightsRow>(
      'SELECT * FROM insights WHERE @domain IS NULL OR domain = @domain ORDER BY updated_at DESC, seq DESC LIMIT @limit',
    ),
    listEvents: db.prepare<{ requestId: string | null; limit: number }, EventRow>(
      `SELECT * FROM events WHERE @requestId IS NULL OR request_id = @requestId
       ORDER BY received_at DESC, rowid DESC LIMIT @limit`,
    ),
  };
}

/** The index steps of events and insight records (see `IndexTx`), inside the pass's write transaction. */
export function sqliteNotificationTx(
  stmt: NotificationStatements,
  nowMs: number,
): Pick<IndexTx, 'findEvent' | 'insertEvent' | 'topicHandlers' | 'insertRun' | 'upsertInsights'> {
  return {
    findEvent: (uuid) => stmt.findEvent.get(uuid)?.delivery_id,
    insertEvent: (row) =>
      void stmt.insertEvent.run(
        row.uuid,
        row.requestId,
        row.deliveryId,
        row.event,
        row.subscriptionId,
        row.timestamp,
        row.receivedAtMs,
      ),
    topicHandlers: () => stmt.topicHandlers.all({ a: EVENT_TOPIC_PREFIX, b: INSIGHTS_TOPIC_PREFIX }),
    insertRun: (handler, eventKey, requestId, deliveryId) =>
      void stmt.insertRun.run(handler, eventKey, requestId, deliveryId, nowMs, nowMs),
    upsertInsights: (row) =>
      stmt.upsertInsights.get({
        domain: row.key.domain,
        sourceRecordId: row.key.sourceRecordId,
        sourceSessionId: row.sourceSessionId,
        title: row.title,
        lastModifiedTime: row.lastModifiedTime,
        versionMs: row.versionMs,
        deliveryId: row.deliveryId,
        requestId: row.requestId,
        source: row.source,
        now: nowMs,
      }) !== undefined,
  };
}

export type { InsightsKey, InsightsRow, SubscriptionRow, EventRow };
