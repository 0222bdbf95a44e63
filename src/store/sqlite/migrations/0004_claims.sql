-- jobhook schema, version 4: work is claimed by an owner with a lease (issue #11).

-- Receipts not yet indexed are found by their own state, not by a watermark over ids (PostgreSQL's
-- sequences do not grow in commit order; the same design serves both backends).
ALTER TABLE deliveries ADD COLUMN indexed_at INTEGER;
UPDATE deliveries SET indexed_at = received_at
  WHERE delivery_id <= COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'indexed_through'), 0);
DELETE FROM settings WHERE key IN ('indexed_through', 'settled_seq');
CREATE INDEX deliveries_unindexed ON deliveries (delivery_id) WHERE indexed_at IS NULL;
CREATE INDEX deliveries_unindexed_request ON deliveries (request_id) WHERE indexed_at IS NULL;

-- A submission in flight belongs to the process sending it (its heartbeat in `instances` keeps it alive);
-- a status check is claimed by one process for a lease.
ALTER TABLE requests ADD COLUMN submit_owner TEXT;
ALTER TABLE requests ADD COLUMN check_owner TEXT;
ALTER TABLE requests ADD COLUMN check_lease_until INTEGER;

-- Live processes: a submission whose owner stopped heartbeating was interrupted.
CREATE TABLE instances (
  owner        TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) STRICT;

-- Handlers filter by api when their runs are created (in the settling transaction), not when claimed.
ALTER TABLE handlers ADD COLUMN api TEXT;

-- Handler runs keyed per event, so one request can carry many events (subscription notifications);
-- a run is created in the transaction that settles its request, and a lease names its owner.
CREATE TABLE handler_runs_v4 (
  handler         TEXT NOT NULL,
  event_key       TEXT NOT NULL,
  request_id      TEXT NOT NULL,
  delivery_id     INTEGER,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'succeeded', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  owner           TEXT,
  lease_until     INTEGER,
  last_error      TEXT,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (handler, event_key)
) STRICT;
INSERT INTO handler_runs_v4 (handler, event_key, request_id, delivery_id, state, attempts, next_attempt_at,
    owner, lease_until, last_error, updated_at)
  SELECT h.handler, 'settled:' || h.request_id, h.request_id, r.outcome_delivery_id, h.state, h.attempts,
    h.next_attempt_at, CASE WHEN h.state = 'running' THEN 'before-0004' END, h.lease_until, h.last_error, h.updated_at
  FROM handler_runs h LEFT JOIN requests r USING (request_id);
-- Runs a handler was owed but had not yet been created (the old queue created them on claim).
INSERT INTO handler_runs_v4 (handler, event_key, request_id, delivery_id, next_attempt_at, updated_at)
  SELECT h.name, 'settled:' || r.request_id, r.request_id, r.outcome_delivery_id, r.completed_at, r.completed_at
  FROM handlers h JOIN requests r ON r.settled_seq > h.since_seq
  WHERE r.state IN ('succeeded', 'failed')
  ON CONFLICT (handler, event_key) DO NOTHING;
DROP TABLE handler_runs;
ALTER TABLE handler_runs_v4 RENAME TO handler_runs;
CREATE INDEX handler_runs_due ON handler_runs (handler, next_attempt_at) WHERE state IN ('pending', 'running');
CREATE INDEX handler_runs_request ON handler_runs (request_id);

-- The shared rate budget (see src/store/rate-window.ts): grant times of the window, and a hold.
CREATE TABLE rate_budgets (
  key        TEXT PRIMARY KEY,
  grants     TEXT NOT NULL DEFAULT '[]',
  hold_until INTEGER NOT NULL DEFAULT 0
) STRICT;
