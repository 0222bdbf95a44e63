-- jobhook schema, version 3.
-- `origin`: 'minted' for requests behind a tagged callback URL (verified), 'accepted' for those created from
-- deliveries at an `--accept` path (no tag: anyone who learns the URL can post there).
ALTER TABLE requests ADD COLUMN origin TEXT NOT NULL DEFAULT 'minted' CHECK (origin IN ('minted', 'accepted'));
-- A callback URL used by several jobs: each further jobId gets its own request (so `show <jobId>` finds
-- it, and it settles and runs handlers on its own), pointing at the request of the URL it arrived on.
ALTER TABLE requests ADD COLUMN parent_request_id TEXT;
CREATE INDEX requests_parent ON requests (parent_request_id) WHERE parent_request_id IS NOT NULL;
-- The path of a delivery taken at an `--accept` path (minted paths are not kept: their tag is a credential).
ALTER TABLE deliveries ADD COLUMN accepted_path TEXT;
