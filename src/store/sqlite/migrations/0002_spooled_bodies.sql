-- jobhook schema, version 2: large bodies live in spool files beside the database (`<db>-bodies/`).
-- `body_file` names the file; its row's `body` is then empty. The receiver writes and fsyncs the file while
-- the body arrives, so the commit that acknowledges the delivery stays small (see src/store/sqlite/body-spool.ts).
ALTER TABLE deliveries ADD COLUMN body_file TEXT;
