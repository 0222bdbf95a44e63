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
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  completed_at        INTEGER
) STRICT;

CREATE INDEX requests_job_id ON requests (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX requests_created_at ON requests (created_at);
CREATE INDEX requests_pending ON requests (state, created_at) WHERE state = 'pending';

-- One row per distinct body received for a request; a byte-identical re-delivery only bumps `count`.
-- Rows here are never rewritten by parsing: the envelope lives in `envelopes`, so indexing a delivery
-- does not copy its (possibly large) body into the WAL a second time.
CREATE TABLE deliveries (
  delivery_id       INTEGER PRIMARY KEY,
  request_id        TEXT NOT NULL,
  source            TEXT NOT NULL CHECK (source IN ('webhook', 'status-poll')),
  body              BLOB NOT NULL,
  body_sha256       BLOB NOT NULL,
  raw_headers       TEXT NOT NULL,
  count             INTEGER NOT NULL DEFAULT 1,
  first_received_at INTEGER NOT NULL,
  last_received_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX deliveries_dedup ON deliveries (request_id, source, body_sha256);

-- The parsed envelope of each delivery. Written as `pending` in the delivery's own transaction, so a
-- crash between the ack and the parse leaves a row that the next start finds and parses.
CREATE TABLE envelopes (
  delivery_id     INTEGER PRIMARY KEY,
  parse_state     TEXT NOT NULL DEFAULT 'pending' CHECK (parse_state IN ('pending', 'parsed', 'unparseable')),
  parse_error     TEXT,
  job_id          TEXT,
  api             TEXT,
  status          TEXT,
  creation_time   TEXT,
  completion_time TEXT,
  expiration_time TEXT
) STRICT;

CREATE INDEX envelopes_job_id ON envelopes (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX envelopes_pending ON envelopes (delivery_id) WHERE parse_state = 'pending';
