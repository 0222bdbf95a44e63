import type Database from 'better-sqlite3';
import type { InsightsKey } from '../../types.js';
import type { IndexTx } from '../index-plan.js';
import { EVENT_TOPIC_PREFIX, INSIGHTS_TOPIC_PREFIX } from '../../types.js';
import type { EventRow, InsightsRow, SubscriptionRow } from '../notification-rows.js';

/**
 * SQL of subscriptions, named leases, push events and ACE insight records (migration 0005); the store runs
 * the writes inside its transactions. SQLite's clock is this machine's (the file is local): `Date.now()`.
 */
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
      `INSERT INTO events (uuid, request_id, delivery_id, event, subscription_id, event_time, record_domain, record_id,
         received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    listEvents: db.prepare<
      {
        requestId: string | null;
        uuid: string | null;
        domain: string | null;
        recordId: string | null;
        limit: number;
      },
      EventRow
    >(
      `SELECT * FROM events WHERE (@requestId IS NULL OR request_id = @requestId) AND (@uuid IS NULL OR uuid = @uuid)
         AND (@recordId IS NULL OR (record_domain = @domain AND record_id = @recordId))
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
        row.record?.domain ?? null,
        row.record?.sourceRecordId ?? null,
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

export type { InsightsKey };
