import { afterEach, describe, expect, it } from 'vitest';
import { generateSecret, createKeyring } from '../../src/callback/callback-url.js';
import { createMinter } from '../../src/client/minter.js';
import { JobhookError, type JobhookErrorCode } from '../../src/errors.js';
import { createReceiver, type Receiver } from '../../src/receiver/receiver.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { IncomingDelivery, RecordedDelivery } from '../../src/types.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { post } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

/** A real SQLite store whose next commits fail the way a database says so (issue #11: unavailable vs conflict). */
class FailingStore extends SqliteStore {
  failWith: JobhookErrorCode | null = null;
  override async recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]> {
    if (this.failWith) throw new JobhookError(this.failWith, `test: the database said ${this.failWith}`);
    return super.recordDeliveries(batch);
  }
}

let receiver: Receiver | null = null;
let store: FailingStore | null = null;
afterEach(async () => {
  await receiver?.close();
  await store?.close();
});

describe('receiver: what a failing commit is answered', () => {
  it('503 (come back later) only for an outage; 500 for data the database refuses; 200 once it commits', async () => {
    store = new FailingStore({ path: tempDbPath() });
    const keyring = createKeyring(await store.ensureSecrets(generateSecret));
    receiver = createReceiver({ store, keyring, pathPrefix: '/webhooks' });
    const { port } = await receiver.listen(0, '127.0.0.1');
    const mint = createMinter({ store, keyring, publicUrl: `http://127.0.0.1:${port}`, pathPrefix: '/webhooks' });
    const { callbackUrl, requestId } = await mint({ kind: 'job' });
    const body = JSON.stringify(sttEnvelope('job-e'));
    store.failWith = 'JH_ERR_STORE_UNAVAILABLE';
    expect(await post(callbackUrl, body)).toBe(503);
    store.failWith = 'JH_ERR_STORE_CONFLICT';
    expect(await post(callbackUrl, body)).toBe(500);
    // Newest first.
    expect(receiver.refusals.recent().map((r) => [r.reason, r.status])).toEqual([
      ['store-refused', 500],
      ['store-unavailable', 503],
    ]);
    store.failWith = null;
    expect(await post(callbackUrl, body)).toBe(200);
    expect((await store.listDeliveries(requestId)).length).toBe(1);
  });
});
