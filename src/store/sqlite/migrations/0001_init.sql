-- jobhook schema, version 1. Timestamps are Unix milliseconds (UTC).

-- Installation settings; `callback_secrets` holds the keyring as a JSON array, newest first.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- One row per minted callback URL, written before the URL leaves the process (write-ahead).
CREATE TABLE requests (
  request_id          TEXT PRIMARY KEY,
  kind                TEXT NOT NULL CHECK (kind IN ('job', 'subscription')),
  api                 TEXT,
  callback_url        TEXT,  -- NULL when a delivery arrived for a validly tagged request this store never recorded
  request_body        TEXT,
  job_id              TEXT,
  state               TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'succeeded', 'failed', 'expired')),
  outcome_delivery_id INTEGER,
  -- Submission of a job (write-ahead): minted → submitting → accepted | rejected; a crash while
  -- submitting leaves `unknown`, settled by a webhook or by the user, never by resubmitting.
  submit_state        TEXT NOT NULL DEFAULT 'minted'
                      CHECK (submit_state IN ('minted', 'submitting', 'accepted', 'rejected', 'unknown')),
  submit_error        TEXT,
  -- Order in which requests left `pending`, from the `settled_seq` setting: lets every process that
  -- shares the database wake its awaiters for settlements made by the others.
  settled_seq         INTEGER,
  -- Reconciliation through the status endpoint: when to look next, and how often it was looked at.
  next_check_at       INTEGER,
  check_count         INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  completed_at        INTEGER
) STRICT;

CREATE INDEX requests_job_id ON requests (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX requests_created_at ON requests (created_at);
CREATE INDEX requests_pending ON requests (state, created_at) WHERE state = 'pending';
CREATE INDEX requests_settled_seq ON requests (settled_seq) WHERE settled_seq IS NOT NULL;
CREATE INDEX requests_due ON requests (next_check_at) WHERE state = 'pending' AND job_id IS NOT NULL;

-- Every receipt, appended by the receiver's group commit before it answers 200. Append-only on the hot
-- path (no secondary index to update), so a commit writes few pages. The indexer (after the ack) folds
-- a byte-identical re-delivery into the first one's count and deletes its row: a body is stored once.
CREATE TABLE deliveries (
  -- AUTOINCREMENT: ids are never reused after a duplicate row is deleted, so the watermark stays exact.
  delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  TEXT NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('webhook', 'status-poll')),
  body        BLOB NOT NULL,
  body_sha256 BLOB NOT NULL,
  raw_headers TEXT NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

-- One row per distinct delivery once indexed: dedup key, receipt count and the parsed envelope.
-- Deliveries with an id above the `indexed_through` setting are not indexed yet (SQLite assigns ids
-- under the write lock, so ids grow in commit order and a watermark is exact).
CREATE TABLE delivery_index (
  delivery_id       INTEGER PRIMARY KEY,
  request_id        TEXT NOT NULL,
  source            TEXT NOT NULL,
  body_sha256       BLOB NOT NULL,
  count             INTEGER NOT NULL DEFAULT 1,
  first_received_at INTEGER NOT NULL,
  last_received_at  INTEGER NOT NULL,
  parse_state       TEXT NOT NULL CHECK (parse_state IN ('parsed', 'unparseable')),
  parse_error       TEXT,
  job_id            TEXT,
  api               TEXT,
  status            TEXT,
  creation_time     TEXT,
  completion_time   TEXT,
  expiration_time   TEXT
) STRICT;

CREATE UNIQUE INDEX delivery_index_dedup ON delivery_index (request_id, source, body_sha256);
CREATE INDEX delivery_index_job_id ON delivery_index (job_id) WHERE job_id IS NOT NULL;

-- Result handlers registered by name; each sees the requests settled after its first registration.
CREATE TABLE handlers (
  name      TEXT PRIMARY KEY,
  since_seq INTEGER NOT NULL
) STRICT;

-- Durable handler queue: one run per (handler, request). A claim leases the run; a crash leaves the lease
-- to expire and the run is claimed again (at least once). Failures back off; past the last attempt the
-- run is `dead` until retried.
CREATE TABLE handler_runs (
  handler         TEXT NOT NULL,
  request_id      TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'succeeded', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  last_error      TEXT,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (handler, request_id)
) STRICT;

CREATE INDEX handler_runs_due ON handler_runs (handler, next_attempt_at) WHERE state IN ('pending', 'running');
CREATE INDEX handler_runs_request ON handler_runs (request_id);
