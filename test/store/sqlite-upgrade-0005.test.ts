import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { migrate, readMigrations } from '../../src/store/sqlite/migrate.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDbPath } from '../helpers/temp.js';

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

it('indexes again the notifications a schema-4 database stored as unparseable job envelopes (review finding)', async () => {
  const path = tempDbPath();
  const db = new Database(path);
  migrate(
    db,
    readMigrations().filter((m) => m.version <= 4),
  );
  const requestId = newRequestId();
  const body = Buffer.from(
    JSON.stringify({
      uuid: 'u-before-0005',
      event: '/ai/ringsense/v1/public/accounts/1/domains/pbx/insights',
      timestamp: '2026-11-26T00:00:00Z',
      subscriptionId: 's',
      ownerId: 'o',
      body: { domain: 'pbx', sourceRecordId: 'rec-old', lastModifiedTime: '2026-11-26T00:00:00Z', insights: {} },
    }),
  );
  const now = Date.now();
  // What schema 4 left: the request, its receipt indexed, parsed by the job-envelope parser (no status).
  db.prepare(
    `INSERT INTO requests (request_id, kind, callback_url, created_at, updated_at) VALUES (?, 'subscription', 'x', ?, ?)`,
  ).run(requestId, now, now);
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO deliveries (request_id, source, body, body_sha256, raw_headers, received_at, indexed_at)
       VALUES (?, 'webhook', ?, ?, '[]', ?, ?)`,
    )
    .run(requestId, body, Buffer.alloc(32, 1), now, now);
  db.prepare(
    `INSERT INTO delivery_index (delivery_id, request_id, source, body_sha256, first_received_at, last_received_at,
       parse_state, parse_error) VALUES (?, ?, 'webhook', ?, ?, ?, 'unparseable', 'not an envelope: no "status" string')`,
  ).run(lastInsertRowid, requestId, Buffer.alloc(32, 1), now, now);
  db.close();

  store = new SqliteStore({ path });
  for (let pass; !pass || pass.examined > 0;) pass = await store.indexDeliveries(deliveryRules);
  expect(await store.listEvents({ requestId })).toMatchObject([{ uuid: 'u-before-0005' }]);
  expect(await store.findInsights({ domain: 'pbx', sourceRecordId: 'rec-old' })).toBeDefined();
  const [delivery] = await store.listDeliveries(requestId);
  expect(delivery).toMatchObject({ parseState: 'parsed', envelope: { status: 'Notification' } });
});
