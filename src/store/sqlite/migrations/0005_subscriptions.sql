-- jobhook schema, version 5: webhook subscriptions, push events and ACE insight records (issue #12).

-- Subscriptions jobhook keeps on the platform, by local name. The address is the minted URL of `request_id`
-- (kind subscription): its verification token derives from that id, so it is not stored.
CREATE TABLE subscriptions (
  name             TEXT PRIMARY KEY,
  request_id       TEXT NOT NULL,
  event_filters    TEXT NOT NULL,             -- JSON array, as asked
  expires_in       INTEGER NOT NULL,          -- seconds asked for
  platform_id      TEXT,                      -- the platform's current id (changes when re-created)
  address          TEXT,
  status           TEXT NOT NULL,             -- the platform's (Active, Blacklisted…) or Pending/Failed/Gone
  expires_at       INTEGER,
  disabled_filters TEXT NOT NULL DEFAULT '[]', -- JSON
  blacklisted_data TEXT,                      -- JSON
  last_error       TEXT,
  checked_at       INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX subscriptions_platform_id ON subscriptions (platform_id) WHERE platform_id IS NOT NULL;

-- Named leases (the subscription keeper: one process at a time among those sharing the file).
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  lease_until INTEGER NOT NULL
) STRICT;

-- One row per push notification, by its envelope uuid: re-deliveries are folded into its delivery.
CREATE TABLE events (
  uuid            TEXT PRIMARY KEY,
  request_id      TEXT NOT NULL,
  delivery_id     INTEGER NOT NULL,
  event           TEXT NOT NULL,
  subscription_id TEXT,
  event_time      TEXT,
  record_domain   TEXT,                      -- the ACE record it carries, if any
  record_id       TEXT,
  received_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX events_request ON events (request_id, received_at);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_record ON events (record_domain, record_id) WHERE record_id IS NOT NULL;

-- One ACE insight record per (domain, sourceRecordId): the newest lastModifiedTime wins. `seq` orders
-- new versions for the processes that watch the file (as settled_seq does for settlements).
CREATE TABLE insights (
  domain             TEXT NOT NULL,
  source_record_id   TEXT NOT NULL,
  source_session_id  TEXT,
  title              TEXT,
  last_modified_time TEXT,
  version_ms         INTEGER NOT NULL,
  delivery_id        INTEGER NOT NULL,
  request_id         TEXT NOT NULL,
  source             TEXT NOT NULL,
  versions           INTEGER NOT NULL DEFAULT 1,
  seq                INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  PRIMARY KEY (domain, source_record_id)
) STRICT;
CREATE INDEX insights_seq ON insights (seq);
CREATE INDEX insights_updated ON insights (updated_at);

-- Notifications stored before this version were indexed as job envelopes (unparseable, no event, no record):
-- index them again, so the events and insight records they carry exist (a re-delivery then folds into them).
DELETE FROM delivery_index WHERE request_id IN (SELECT request_id FROM requests WHERE kind = 'subscription');
UPDATE deliveries SET indexed_at = NULL WHERE request_id IN (SELECT request_id FROM requests WHERE kind = 'subscription');
