import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.close();
});

describe('envelope indexer: receipts another instance acknowledged but never indexed', () => {
  it('are indexed by an idle instance within its sweep, with no traffic of its own', async () => {
    // Found by review (issue #11): instance B acknowledged a result and was killed before its indexing
    // pass; A, idle, never indexed it, and every await on that request hung until A got traffic of its own.
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { requestId } = await harness.mint({ kind: 'job' });
    const b = new SqliteStore({ path: dbPath });
    await b.recordDeliveries([
      {
        requestId,
        source: 'webhook',
        body: Buffer.from(JSON.stringify(sttEnvelope('job-from-b'))),
        rawHeaders: ['Content-Type', 'application/json'],
        receivedAtMs: Date.now(),
      },
    ]);
    await b.close(); // B is gone; nothing told A
    const started = Date.now();
    await waitFor(async () => (await harness!.store.findRequest(requestId))?.state === 'succeeded', 6000);
    expect(Date.now() - started).toBeLessThan(6000);
    expect((await harness.store.listDeliveries(requestId)).map((d) => d.parseState)).toEqual(['parsed']);
  });
});
