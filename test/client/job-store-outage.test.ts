import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { Job } from '../../src/client/job.js';
import { Waiters } from '../../src/client/waiters.js';
import { JobhookError } from '../../src/errors.js';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RequestRecord } from '../../src/types.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { tempDbPath } from '../helpers/temp.js';

/** A real store whose reads fail, while `away`, as a database that does not answer does. */
class FlakyStore extends SqliteStore {
  away = false;
  failedReads = 0;
  override async findRequest(id: string): Promise<RequestRecord | undefined> {
    if (this.away) {
      this.failedReads++;
      throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', 'test: the database does not answer');
    }
    return super.findRequest(id);
  }
}

describe('result() through a database that stops answering for a while', () => {
  it('reads again after a failed read instead of waiting for a hint that already came', async () => {
    // Found by review (issue #11): the settlement's hint arrived while reads failed (a busy pool, a restart);
    // the failed re-read spent it, and result() hung until its timeout although the request had settled.
    const path = tempDbPath();
    const store = new FlakyStore({ path, watchIntervalMs: 20 });
    const requestId = newRequestId();
    const record = await store.createRequest({ requestId, kind: 'job', callbackUrl: 'http://x/' });
    const job = new Job(record, store, new Waiters(store));
    const started = Date.now();
    const result = job.result({ timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    store.away = true;
    // Another process settles it while this one cannot read.
    const other = new SqliteStore({ path });
    await other.recordDeliveries([
      {
        requestId,
        source: 'webhook',
        body: Buffer.from(JSON.stringify(sttEnvelope('job-outage'))),
        rawHeaders: [],
        receivedAtMs: Date.now(),
      },
    ]);
    await other.indexDeliveries(deliveryRules);
    await other.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(store.failedReads).toBeGreaterThan(0);
    store.away = false;
    await expect(result).resolves.toMatchObject({ confidence: 0.93 });
    expect(Date.now() - started).toBeLessThan(5000);
    await store.close();
  });
});
