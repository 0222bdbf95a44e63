-- jobhook PostgreSQL schema, version 1. Timestamps are Unix milliseconds (BIGINT, UTC) on the database's
-- clock, as in the SQLite schema, so both stores map rows to records alike. Every instance of a fleet
-- shares these tables: work is claimed with an owner and a lease, never listed and done blindly.

-- Installation settings; `callback_secrets` holds the keyring as a JSON array, newest first.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One row per minted callback URL, written before the URL leaves the process (write-ahead).
CREATE TABLE requests (
  request_id          TEXT PRIMARY KEY,
  kind                TEXT NOT NULL CHECK (kind IN ('job', 'subscription')),
  api                 TEXT,
  callback_url        TEXT,
  -- 'minted': behind a tagged callback URL (verified); 'accepted': created from an --accept path.
  origin              TEXT NOT NULL DEFAULT 'minted' CHECK (origin IN ('minted', 'accepted')),
  -- Another job's results arrived on this request's callback URL: its request points here.
  parent_request_id   TEXT,
  request_body        TEXT,
  job_id              TEXT,
  state               TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'succeeded', 'failed', 'expired')),
  outcome_delivery_id BIGINT,
  -- Submission (write-ahead): minted → submitting → accepted | rejected; `submit_owner` is the instance
  -- that POSTs it: while that instance heartbeats (table `instances`), nobody marks it `unknown`.
  submit_state        TEXT NOT NULL DEFAULT 'minted'
                      CHECK (submit_state IN ('minted', 'submitting', 'accepted', 'rejected', 'unknown')),
  submit_error        TEXT,
  submit_owner        TEXT,
  -- Reconciliation: when to look next, how often it was looked at, and who holds the current check.
  next_check_at       BIGINT,
  check_count         INTEGER NOT NULL DEFAULT 0,
  check_owner         TEXT,
  check_lease_until   BIGINT,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  completed_at        BIGINT
);

CREATE INDEX requests_job_id ON requests (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX requests_created_at ON requests (created_at);
CREATE INDEX requests_checkable ON requests (created_at) WHERE state = 'pending' AND job_id IS NOT NULL;
CREATE INDEX requests_parent ON requests (parent_request_id) WHERE parent_request_id IS NOT NULL;
CREATE INDEX requests_submitting ON requests (submit_owner) WHERE submit_state = 'submitting';

-- Every receipt, appended by the receivers' group commits before they answer 200. No foreign key and one
-- small partial index on the hot path. A receipt not indexed yet has `indexed_at IS NULL`: passes find it
-- by that state (a watermark would skip a receipt whose sequence number was taken before a later one
-- committed) and claim it with FOR UPDATE SKIP LOCKED, so instances index side by side.
CREATE TABLE deliveries (
  delivery_id   BIGSERIAL PRIMARY KEY,
  request_id    TEXT NOT NULL,
  source        TEXT NOT NULL CHECK (source IN ('webhook', 'status-poll')),
  body          BYTEA NOT NULL,
  body_sha256   BYTEA NOT NULL,
  raw_headers   TEXT NOT NULL,
  received_at   BIGINT NOT NULL,
  accepted_path TEXT,
  indexed_at    BIGINT
);

CREATE INDEX deliveries_unindexed ON deliveries (delivery_id) WHERE indexed_at IS NULL;
CREATE INDEX deliveries_unindexed_request ON deliveries (request_id) WHERE indexed_at IS NULL;

-- One row per distinct delivery once indexed: dedup key, receipt count and the parsed envelope. A
-- byte-identical re-delivery is folded into the first one's count and its receipt row deleted.
CREATE TABLE delivery_index (
  delivery_id       BIGINT PRIMARY KEY,
  request_id        TEXT NOT NULL,
  source            TEXT NOT NULL,
  body_sha256       BYTEA NOT NULL,
  count             INTEGER NOT NULL DEFAULT 1,
  first_received_at BIGINT NOT NULL,
  last_received_at  BIGINT NOT NULL,
  parse_state       TEXT NOT NULL CHECK (parse_state IN ('parsed', 'unparseable')),
  parse_error       TEXT,
  job_id            TEXT,
  api               TEXT,
  status            TEXT,
  creation_time     TEXT,
  completion_time   TEXT,
  expiration_time   TEXT
);

CREATE UNIQUE INDEX delivery_index_dedup ON delivery_index (request_id, source, body_sha256);

-- Result handlers registered by name; a settlement creates one run per handler whose api matches (NULL: all).
CREATE TABLE handlers (
  name          TEXT PRIMARY KEY,
  api           TEXT,
  registered_at BIGINT NOT NULL
);

-- Durable handler queue, keyed per event (`settled:<requestId>`; later kinds carry many per request). A
-- claim leases a run to an owner on the database's clock; only that owner completes it; an expired lease
-- lets another owner take it over (at least once).
CREATE TABLE handler_runs (
  handler         TEXT NOT NULL,
  event_key       TEXT NOT NULL,
  request_id      TEXT NOT NULL,
  delivery_id     BIGINT,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'succeeded', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  owner           TEXT,
  lease_until     BIGINT,
  last_error      TEXT,
  updated_at      BIGINT NOT NULL,
  PRIMARY KEY (handler, event_key)
);

CREATE INDEX handler_runs_due ON handler_runs (handler, next_attempt_at) WHERE state IN ('pending', 'running');
CREATE INDEX handler_runs_request ON handler_runs (request_id);

-- Live instances: each heartbeats while it has submissions in flight; its row is deleted when it closes.
CREATE TABLE instances (
  owner        TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);

-- One rate budget per key (a RingCentral app and user's Heavy group): a sliding-window log of grant times
-- (JSON array of ms) and a hold every instance honours (Retry-After, an exhausted window).
CREATE TABLE rate_budgets (
  key        TEXT PRIMARY KEY,
  grants     TEXT NOT NULL DEFAULT '[]',
  hold_until BIGINT NOT NULL DEFAULT 0
);
