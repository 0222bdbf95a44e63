import { beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, generateSecret } from '../../src/callback/callback-url.js';
import { createMinter } from '../../src/client/minter.js';
import { exportInsights } from '../../src/inspector/insights-exports.js';
import { aceEventFilter, parseAceInsights } from '../../src/ringcentral/ace.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDbPath } from '../helpers/temp.js';
import { aceFixture } from './ace-fixtures.js';

/**
 * `jobhook export <domain>:<sourceRecordId> --format txt|srt|vtt|json` (issue #12): the stored record's
 * newest version, exported as the inspector's download is; what is left unindexed is indexed first, as for
 * every read command. Runs the built CLI on a database written here.
 */
let dbPath: string;
const record = aceFixture('pbx-record.json');

beforeAll(async () => {
  dbPath = tempDbPath();
  const store = new SqliteStore({ path: dbPath, busyTimeoutMs: 200 });
  try {
    const keyring = createKeyring(await store.ensureSecrets(generateSecret));
    const mint = createMinter({ store, keyring, publicUrl: 'http://127.0.0.1:9', pathPrefix: '/webhooks' });
    const { requestId } = await mint({ kind: 'subscription' });
    const event = {
      uuid: '123456789',
      event: aceEventFilter('pbx', '500000001'),
      timestamp: '2026-03-02T10:12:05.000Z',
      subscriptionId: 'sub-1',
      ownerId: '7000000001',
      body: record,
    };
    // Recorded as the receiver does and not indexed: the command's indexing pass makes it a record.
    await store.recordDeliveries([
      {
        requestId,
        source: 'webhook',
        body: Buffer.from(JSON.stringify(event)),
        rawHeaders: ['content-type', 'application/json'],
        receivedAtMs: Date.now(),
      },
    ]);
  } finally {
    await store.close();
  }
});

describe('jobhook export <domain>:<sourceRecordId>', () => {
  it('prints the transcript as text, SRT, WebVTT and the record as JSON', () => {
    const parsed = parseAceInsights(record);
    for (const format of ['txt', 'srt', 'vtt', 'json'] as const) {
      const run = runCli(['export', 'pbx:3141592653589', '--db', dbPath, '--format', format]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout, format).toBe(exportInsights(parsed, format).body);
    }
    expect(runCli(['export', 'pbx:3141592653589', '--db', dbPath, '--format', 'txt']).stdout).toContain(
      '[00:01] Ada Quinn: Morning Ben, thanks for picking up.',
    );
  });

  it('says how to get a record it does not have, and where a domain does not exist', () => {
    const missing = runCli(['export', 'rcx:nope', '--db', dbPath, '--format', 'srt']);
    expect(missing.status).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no ACE insight record rcx nope is stored; .*jobhook insights rcx <sourceRecordId>/);
    const wrongDomain = runCli(['export', 'phone:3141592653589', '--db', dbPath, '--format', 'srt']);
    expect(wrongDomain.status).toBe(missing.status);
    expect(wrongDomain.stderr).toMatch(/with a domain of pbx, rcv, rcx, ms-teams, nice-incontact/);
  });
});
