import type { EventRecord, InsightsRecord, SubscriptionInput, SubscriptionRecord } from '../types.js';

/**
 * Rows of subscriptions, events and insight records (SQLite migration 0005, PostgreSQL 0002: the same columns,
 * milliseconds as integers) mapped to records, shared by both stores.
 */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const msOf = (at: string | null): number | null => (at === null ? null : Date.parse(at));

export interface SubscriptionRow {
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

export interface EventRow {
  uuid: string;
  request_id: string;
  delivery_id: number;
  event: string;
  subscription_id: string | null;
  event_time: string | null;
  record_domain: string | null;
  record_id: string | null;
  received_at: number;
}

export interface InsightsRow {
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
    insights:
      row.record_domain !== null && row.record_id !== null
        ? { domain: row.record_domain, sourceRecordId: row.record_id }
        : null,
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
