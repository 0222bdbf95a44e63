import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isJobhookError } from '../../src/errors.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import { freshSchema, pgProxy, skipWithoutPostgres, type FreshSchema, type PgProxy } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { envelope, receipt, recordingParser, settle, submitted } from './contract-helpers.js';

/**
 * Settlement hints lost without any error the store would see (issue #11 review): a LISTEN flow that a NAT
 * stops forwarding (no FIN, no RST), and a settling COMMIT that succeeded on the server while its answer was
 * lost. Either way the store must make its subscribers re-read (onResync) instead of leaving them waiting.
 */
describe.skipIf(skipWithoutPostgres('PostgresStore lost hints'))('PostgresStore lost hints', () => {
  let fresh: FreshSchema;
  let proxy: PgProxy | null = null;
  const opened: PostgresStore[] = [];
  const open = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
    const store = await PostgresStore.open({
      connectionString: fresh.url,
      schema: fresh.schema,
      poolSize: 2,
      ...options,
    });
    opened.push(store);
    return store;
  };
  /** Subscribes to `store`, once its LISTEN connection is up (the first resync says so). */
  const watch = async (store: PostgresStore) => {
    const seen = { events: [] as RequestSettledEvent[], resyncs: 0 };
    store.onSettled(
      (e) => seen.events.push(e),
      () => seen.resyncs++,
    );
    await waitFor(() => seen.resyncs === 1);
    return seen;
  };
  beforeEach(async () => {
    fresh = await freshSchema();
    proxy = await pgProxy();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await proxy?.stop();
    proxy = null;
    await fresh.drop();
  });

  it('notices by its ping a LISTEN flow gone silent, re-listens, resyncs, and hears settlements again', async () => {
    const a = await open({ connectionString: proxy!.url, listenPingMs: 200 });
    const b = await open();
    const seen = await watch(a);

    // Only A's LISTEN connection is caught: its pooled ones keep working, as after a NAT's idle timeout.
    expect(proxy!.blackhole('jobhook-listen')).toBe(1);
    await waitFor(() => seen.resyncs === 2);
    const requestId = await submitted(b, 'job-after');
    await settle(b, requestId, 'Success', 'job-after');
    await waitFor(() => seen.events.length === 1);
    expect(seen.events[0]).toMatchObject({ requestId, state: 'succeeded' });
    expect(seen.resyncs).toBe(2);
  });

  it('resyncs its subscribers when a settling COMMIT went through but its answer was lost', async () => {
    const a = await open({ connectionString: proxy!.url });
    const b = await open();
    const seen = await watch(a);
    const requestId = await submitted(a, 'job-lost');
    await a.recordDeliveries([receipt(requestId, envelope('job-lost', 'Success'))]);

    const lost = proxy!.loseNextCommitReply();
    const error = await a.indexDeliveries(recordingParser().rules).catch((e: unknown) => e);
    await lost;
    expect(isJobhookError(error, 'JH_ERR_STORE_UNAVAILABLE')).toBe(true);
    // It did commit: the hint went out with A's own tag, which A's listener skips, and A emitted nothing.
    expect(await b.findRequest(requestId)).toMatchObject({ state: 'succeeded' });
    await waitFor(() => seen.resyncs === 2);

    // Otherwise still one event per settlement: A's own (emitted after its commit, its NOTIFY skipped), then
    // B's; hints arrive in commit order, so a duplicate of A's would come before B's.
    const own = await submitted(a, 'job-own');
    await settle(a, own, 'Fail', 'job-own');
    const other = await submitted(b, 'job-other');
    await settle(b, other, 'Success', 'job-other');
    await waitFor(() => seen.events.some((e) => e.requestId === other));
    expect(seen.events.map((e) => [e.requestId, e.state])).toEqual([
      [own, 'failed'],
      [other, 'succeeded'],
    ]);
    expect(seen.resyncs).toBe(2);
  });
});
