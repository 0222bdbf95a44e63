import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import type { Store } from '../../src/store/store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import { waitFor } from '../helpers/receiver-harness.js';
import type { ContractContext, StoreUnderTest } from './contract.js';
import {
  envelope,
  ids,
  iso,
  mint,
  receipt,
  recordingParser,
  settle,
  spool,
  STT,
  submitted,
} from './contract-helpers.js';

/** The contract of the receiver's side: receipts, indexing, settlement hints, spooled bodies. */
export function describeIngestContract(ctx: ContractContext): void {
  let t: StoreUnderTest;
  let store: Store;
  beforeEach(() => {
    t = ctx.t;
    store = t.store;
  });

  describe('deliveries and indexing', () => {
    it('shows a receipt at once as pending, in batch order, before any indexing', async () => {
      const requestId = await mint(store);
      const body = Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
      const recorded = await store.recordDeliveries([
        receipt(requestId, body, 5000, { rawHeaders: ['X-A', '1', 'x-a', '2'] }),
        receipt(requestId, envelope('j', 'InProgress'), 6000, { source: 'status-poll' }),
      ]);
      expect(recorded.map((r) => r.requestId)).toEqual([requestId, requestId]);
      expect(new Set(recorded.map((r) => r.deliveryId)).size).toBe(2);
      const first = await (await t.second()).getDelivery(recorded[0]!.deliveryId);
      expect(first).toEqual({
        deliveryId: recorded[0]!.deliveryId,
        requestId,
        source: 'webhook',
        body,
        bodySha256: createHash('sha256').update(body).digest('hex'),
        rawHeaders: ['X-A', '1', 'x-a', '2'],
        count: 1,
        firstReceivedAt: iso(5000),
        lastReceivedAt: iso(5000),
        parseState: 'pending',
        parseError: null,
        envelope: null,
      });
      expect((await store.listDeliveries(requestId)).map((d) => [d.deliveryId, d.source])).toEqual([
        [recorded[0]!.deliveryId, 'webhook'],
        [recorded[1]!.deliveryId, 'status-poll'],
      ]);
      expect(await store.findRequest(requestId)).toMatchObject({ deliveryCount: 2, state: 'pending' });
      expect(await store.getDelivery(recorded[1]!.deliveryId + 1000)).toBeUndefined();
    });

    it('folds byte-identical re-deliveries into the first with a count, parsing each distinct body once', async () => {
      const a = await mint(store);
      const b = await mint(store);
      const body = envelope('job-d', 'InProgress');
      const [first] = await store.recordDeliveries([
        receipt(a, body, 1000),
        receipt(a, body, 3000),
        receipt(a, body, 2000),
      ]);
      // The same bytes from the status endpoint, or for another request, are other deliveries.
      await store.recordDeliveries([receipt(a, body, 4000, { source: 'status-poll' }), receipt(b, body, 4000)]);
      const { rules, parsed } = recordingParser();
      expect(await store.indexDeliveries(rules)).toMatchObject({ examined: 5, duplicates: 2, settled: [] });
      expect(parsed).toHaveLength(3);
      expect(
        (await store.listDeliveries(a)).map((d) => [d.deliveryId === first!.deliveryId, d.source, d.count]),
      ).toEqual([
        [true, 'webhook', 3],
        [false, 'status-poll', 1],
      ]);
      expect(await store.getDelivery(first!.deliveryId)).toMatchObject({
        firstReceivedAt: iso(1000),
        lastReceivedAt: iso(3000),
      });
      expect(await store.findRequest(a)).toMatchObject({ deliveryCount: 4 });
      // A later identical receipt, indexed through another connection, still folds into the first.
      const other = await t.second();
      await other.recordDeliveries([receipt(a, body, 9000)]);
      expect(await other.indexDeliveries(rules)).toMatchObject({ examined: 1, duplicates: 1 });
      expect(parsed).toHaveLength(3);
      expect(await store.getDelivery(first!.deliveryId)).toMatchObject({ count: 4, lastReceivedAt: iso(9000) });
      expect(await store.findRequest(a)).toMatchObject({ deliveryCount: 5 });
      expect(await store.indexDeliveries(rules)).toEqual({
        examined: 0,
        duplicates: 0,
        settled: [],
        blocked: false,
        insights: [],
      });
    });

    it("keeps the parser's verdict: the bytes always, the envelope or the error", async () => {
      const requestId = await mint(store);
      const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
      const [bad, good] = await store.recordDeliveries([
        receipt(requestId, garbage),
        receipt(requestId, envelope('job-v', 'Queued', { completionTime: 'c', expirationTime: 'e' })),
      ]);
      await store.indexDeliveries(recordingParser().rules);
      expect(await store.getDelivery(bad!.deliveryId)).toMatchObject({
        body: garbage,
        parseState: 'unparseable',
        parseError: 'test parser: not JSON',
        envelope: null,
      });
      expect((await store.getDelivery(good!.deliveryId))!.envelope).toEqual({
        jobId: 'job-v',
        api: STT,
        status: 'Queued',
        creationTime: '2026-11-20T10:00:00.000Z',
        completionTime: 'c',
        expirationTime: 'e',
      });
      // An unknown status is not terminal; the request learns its jobId and api.
      expect(await store.findRequest('job-v')).toMatchObject({
        requestId,
        state: 'pending',
        jobId: 'job-v',
        api: STT,
      });
    });

    it('indexes in pages of `limit`, oldest first', async () => {
      const requestId = await mint(store);
      await store.recordDeliveries(
        [1, 2, 3, 4, 5].map((n) => receipt(requestId, envelope('job-p', 'InProgress', { n }))),
      );
      expect(await store.indexDeliveries(recordingParser().rules, 2)).toMatchObject({ examined: 2 });
      expect((await store.listDeliveries(requestId)).map((d) => d.parseState)).toEqual([
        'parsed',
        'parsed',
        'pending',
        'pending',
        'pending',
      ]);
      expect(await store.indexDeliveries(recordingParser().rules, 10)).toMatchObject({ examined: 3 });
    });

    it('settles on the first terminal envelope only, emitting one `settled` event after the commit', async () => {
      const requestId = await mint(store, Date.now(), { api: STT });
      const events: RequestSettledEvent[] = [];
      store.onSettled((e) => events.push(e));
      const [, fail] = await store.recordDeliveries([
        receipt(requestId, envelope('job-7', 'InProgress')),
        receipt(requestId, envelope('job-7', 'Fail')),
        receipt(requestId, envelope('job-7', 'Success')),
      ]);
      const expected = { requestId, jobId: 'job-7', api: STT, state: 'failed', deliveryId: fail!.deliveryId };
      expect((await store.indexDeliveries(recordingParser().rules)).settled).toEqual([expected]);
      expect(events).toEqual([expected]);
      const settled = await store.findRequest(requestId);
      expect(settled).toMatchObject({ state: 'failed', outcomeDeliveryId: fail!.deliveryId, jobId: 'job-7' });
      expect(settled!.completedAt).not.toBeNull();
      // A later Success is kept, not applied.
      await store.recordDeliveries([receipt(requestId, envelope('job-7', 'Success', { late: true }))]);
      expect((await store.indexDeliveries(recordingParser().rules)).settled).toEqual([]);
      expect(await store.findRequest(requestId)).toMatchObject({
        state: 'failed',
        outcomeDeliveryId: fail!.deliveryId,
        deliveryCount: 4,
      });
      expect(events).toHaveLength(1);
    });

    it('keeps a delivery for a request it never recorded, creating that request', async () => {
      const requestId = newRequestId();
      const [d] = await store.recordDeliveries([receipt(requestId, envelope(null, 'Success'))]);
      await store.indexDeliveries(recordingParser().rules);
      expect(await store.findRequest(requestId)).toMatchObject({
        callbackUrl: null,
        origin: 'minted',
        jobId: null,
        state: 'succeeded',
        outcomeDeliveryId: d!.deliveryId,
        deliveryCount: 1,
      });
    });

    it('emits settlements committed through another connection, and stops after unsubscribing', async () => {
      const waiting = await mint(store);
      const later = await mint(store);
      const events: RequestSettledEvent[] = [];
      const unsubscribe = store.onSettled((e) => events.push(e));
      const other = await t.second();
      const deliveryId = await settle(other, waiting, 'Success', 'job-x');
      await waitFor(() => events.length > 0, 5000);
      expect(events).toEqual([{ requestId: waiting, jobId: 'job-x', api: STT, state: 'succeeded', deliveryId }]);
      expect(await other.markExpired(later)).toBe(true);
      await waitFor(() => events.length > 1, 5000);
      expect(events[1]).toEqual({ requestId: later, jobId: null, api: null, state: 'expired', deliveryId: null });
      unsubscribe();
      await settle(other, await mint(other), 'Fail', 'job-y');
      await settle(store, await mint(store), 'Fail', 'job-z');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events).toHaveLength(2);
    });

    it('indexes each receipt once when two connections index at the same time', async () => {
      const requests = await Promise.all([1, 2, 3, 4].map(() => mint(store)));
      await store.recordDeliveries(
        requests.flatMap((id, i) => [
          receipt(id, envelope(`job-${i}`, 'Success')),
          receipt(id, envelope(`job-${i}`, 'Success')),
        ]),
      );
      const other = await t.second();
      const passes = await Promise.all([
        store.indexDeliveries(recordingParser().rules, 3),
        other.indexDeliveries(recordingParser().rules, 3),
      ]);
      const rest = await store.indexDeliveries(recordingParser().rules);
      const all = [...passes, rest];
      expect(all.reduce((n, p) => n + p.examined, 0)).toBe(8);
      expect(all.reduce((n, p) => n + p.duplicates, 0)).toBe(4);
      expect(all.flatMap((p) => p.settled.map((s) => s.requestId)).sort()).toEqual([...requests].sort());
      for (const id of requests) expect((await store.listDeliveries(id)).map((d) => d.count)).toEqual([2]);
    });
    it('indexes every receipt whatever the order in which concurrent commits land', async () => {
      // PostgreSQL hands out ids before commit, so a receipt can commit after a higher id was indexed: a
      // watermark over ids would skip it for ever. Receipts are found by their own state instead.
      const other = await t.second();
      const requestId = await mint(store);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const s = i % 2 === 0 ? store : other;
        writes.push(s.recordDeliveries([receipt(requestId, envelope('job-o', 'InProgress', { i }))]));
        if (i % 5 === 0) writes.push(s.indexDeliveries(recordingParser().rules, 3));
      }
      await Promise.all(writes);
      for (let pass; !pass || pass.examined > 0;) pass = await other.indexDeliveries(recordingParser().rules);
      const deliveries = await store.listDeliveries(requestId);
      expect(deliveries).toHaveLength(40);
      expect(deliveries.filter((d) => d.parseState !== 'parsed')).toEqual([]);
    });
  });

  describe('several jobs on one callback URL', () => {
    it('gives each further jobId its own request pointing at the URL it arrived on', async () => {
      const parent = await submitted(store, 'job-a', 1000);
      const [a, b] = await store.recordDeliveries([
        receipt(parent, envelope('job-a', 'Success')),
        receipt(parent, envelope('job-b', 'InProgress')),
      ]);
      const pass = await store.indexDeliveries(recordingParser().rules);
      expect(pass.settled.map((s) => [s.requestId, s.jobId])).toEqual([[parent, 'job-a']]);
      const child = await store.findRequest('job-b');
      expect(child).toMatchObject({
        kind: 'job',
        origin: 'minted',
        parentRequestId: parent,
        callbackUrl: `http://127.0.0.1/webhooks/${parent}/t`,
        jobId: 'job-b',
        api: STT,
        state: 'pending',
        deliveryCount: 1,
      });
      expect(child!.requestId).not.toBe(parent);
      expect(await store.findRequest('job-a')).toMatchObject({
        requestId: parent,
        state: 'succeeded',
        outcomeDeliveryId: a!.deliveryId,
      });
      expect(ids(await store.listRequests({ parentRequestId: parent }))).toEqual([child!.requestId]);
      expect((await store.listDeliveries(parent)).map((d) => d.deliveryId)).toEqual([a!.deliveryId]);
      expect((await store.listDeliveries(child!.requestId)).map((d) => d.deliveryId)).toEqual([b!.deliveryId]);
      // The second job settles on its own; its re-delivery on the parent's URL folds into its delivery.
      const events: RequestSettledEvent[] = [];
      store.onSettled((e) => events.push(e));
      const [c] = await store.recordDeliveries([
        receipt(parent, envelope('job-b', 'Success')),
        receipt(parent, envelope('job-b', 'Success')),
      ]);
      expect(await store.indexDeliveries(recordingParser().rules)).toMatchObject({ examined: 2, duplicates: 1 });
      expect(events).toEqual([
        { requestId: child!.requestId, jobId: 'job-b', api: STT, state: 'succeeded', deliveryId: c!.deliveryId },
      ]);
      expect(await store.findRequest(child!.requestId)).toMatchObject({ state: 'succeeded', deliveryCount: 3 });
      expect(await store.findRequest(parent)).toMatchObject({ deliveryCount: 1 });
    });

    it('never lets an accepted (unverified) delivery settle or shadow a minted request with its jobId', async () => {
      const minted = await submitted(store, 'job-m');
      const other = await submitted(store, 'job-n');
      const acceptedId = randomUUID();
      const at = { acceptedPath: '/hooks/open' };
      await store.recordDeliveries([receipt(acceptedId, envelope('job-m', 'Fail'), Date.now(), at)]);
      await store.recordDeliveries([receipt(acceptedId, envelope('job-n', 'Fail'), Date.now(), at)]);
      await store.indexDeliveries(recordingParser().rules);
      const accepted = await store.findRequest(acceptedId);
      expect(accepted).toMatchObject({
        origin: 'accepted',
        callbackUrl: '/hooks/open',
        jobId: 'job-m',
        state: 'failed',
      });
      expect(await store.findRequest('job-m')).toMatchObject({
        requestId: minted,
        state: 'pending',
        deliveryCount: 0,
      });
      // Its further jobId gets an accepted request of its own, not the minted one's.
      expect(await store.findRequest('job-n')).toMatchObject({
        requestId: other,
        state: 'pending',
        deliveryCount: 0,
      });
      expect(await store.listRequests({ parentRequestId: acceptedId })).toEqual([
        expect.objectContaining({ origin: 'accepted', jobId: 'job-n', state: 'failed' }),
      ]);
      // The real webhook still settles the minted request, which keeps winning jobId lookups.
      await settle(store, minted, 'Success', 'job-m');
      expect(await store.findRequest('job-m')).toMatchObject({ requestId: minted, state: 'succeeded' });
    });
  });

  describe('spooled bodies', () => {
    it('round-trips a large spooled body byte for byte', async () => {
      const requestId = await mint(store);
      const chunks = [randomBytes(700_000), randomBytes(1), randomBytes(1_400_000)];
      const { body, sha, bytes } = await spool(store, chunks);
      expect(body.bytes).toBe(2_100_001);
      const [d] = await store.recordDeliveries([receipt(requestId, Buffer.alloc(0), 1000, { body, bodySha256: sha })]);
      const stored = await (await t.second()).getDelivery(d!.deliveryId);
      expect(stored!.body.equals(bytes)).toBe(true);
      expect(stored!.bodySha256).toBe(sha.toString('hex'));
      await store.indexDeliveries(recordingParser().rules);
      const [indexed] = await store.listDeliveries(requestId);
      expect(indexed!.body.equals(bytes)).toBe(true);
      expect(indexed).toMatchObject({ parseState: 'unparseable', parseError: 'test parser: not JSON' });
    });

    // Spool files are the SQLite backend's; PostgreSQL keeps every body in the database.
    it.skipIf(!ctx.options.spoolFiles)(
      'lists spooled receipts to parse off the event loop, blocks on them, and takes the verdict given',
      async () => {
        const requestId = await mint(store);
        const big = envelope('job-s', 'Success', { pad: 'x'.repeat(1_500_000) });
        const { body, sha } = await spool(store, [big.subarray(0, 1000), big.subarray(1000)]);
        const [small, large] = await store.recordDeliveries([
          receipt(requestId, envelope('job-s', 'InProgress')),
          receipt(requestId, Buffer.alloc(0), Date.now(), { body, bodySha256: sha }),
        ]);
        const listed = await store.listUnparsedSpooled(10);
        expect(listed.map((l) => l.deliveryId)).toEqual([large!.deliveryId]);
        expect(readFileSync(listed[0]!.path).equals(big)).toBe(true);
        const { rules, parsed } = recordingParser();
        expect(await store.indexDeliveries(rules, 100, new Map())).toMatchObject({
          examined: 1,
          blocked: true,
          settled: [],
        });
        expect((await store.listDeliveries(requestId)).map((d) => [d.deliveryId, d.parseState])).toEqual([
          [small!.deliveryId, 'parsed'],
          [large!.deliveryId, 'pending'],
        ]);
        const verdict = recordingParser().parse(big);
        const pass = await store.indexDeliveries(rules, 100, new Map([[large!.deliveryId, verdict]]));
        expect(pass).toMatchObject({ examined: 1, blocked: false });
        expect(pass.settled.map((s) => s.deliveryId)).toEqual([large!.deliveryId]);
        expect(parsed).toHaveLength(1);
        expect(await store.listUnparsedSpooled(10)).toEqual([]);
        // The same bytes again need no parse: not listed, folded into the first.
        const again = await spool(store, [big]);
        await store.recordDeliveries([
          receipt(requestId, Buffer.alloc(0), Date.now(), { body: again.body, bodySha256: again.sha }),
        ]);
        expect(await store.listUnparsedSpooled(10)).toEqual([]);
        expect(await store.indexDeliveries(rules, 100, new Map())).toMatchObject({
          examined: 1,
          duplicates: 1,
          blocked: false,
        });
        expect((await store.getDelivery(large!.deliveryId))!.count).toBe(2);
      },
    );

    it('parses a spooled body itself when no verdicts are passed', async () => {
      const requestId = await mint(store);
      const big = envelope('job-t', 'Fail', { pad: 'y'.repeat(1_200_000) });
      const { body, sha } = await spool(store, [big]);
      await store.recordDeliveries([receipt(requestId, Buffer.alloc(0), Date.now(), { body, bodySha256: sha })]);
      const { rules, parsed } = recordingParser();
      expect(await store.indexDeliveries(rules)).toMatchObject({ examined: 1, blocked: false });
      expect(parsed).toEqual([big.toString('utf8')]);
      expect(await store.findRequest('job-t')).toMatchObject({ requestId, state: 'failed' });
    });

    it('refuses a spooled body without its hash, recording nothing of the batch', async () => {
      const requestId = await mint(store);
      const { body } = await spool(store, [Buffer.from('{"status":"Success"}')]);
      const batch = [receipt(requestId, Buffer.from('{}')), receipt(requestId, Buffer.alloc(0), Date.now(), { body })];
      await expect(store.recordDeliveries(batch)).rejects.toMatchObject({ code: 'JH_ERR_INVALID_ARGUMENT' });
      expect(await store.listDeliveries(requestId)).toEqual([]);
    });

    // Spool files are the SQLite backend's; PostgreSQL keeps every body in the database.
    it.skipIf(!ctx.options.spoolFiles)('removes a spooled body that was discarded', async () => {
      const requestId = await mint(store);
      const { body, sha } = await spool(store, [Buffer.from('{"status":"Success"}')]);
      await store.discardSpooled(body);
      // Recorded anyway (a caller bug): the bytes are gone, and the store says so rather than invent them.
      const [d] = await store.recordDeliveries([
        receipt(requestId, Buffer.alloc(0), Date.now(), { body, bodySha256: sha }),
      ]);
      const [listed] = await store.listUnparsedSpooled(1);
      expect(listed!.deliveryId).toBe(d!.deliveryId);
      expect(existsSync(listed!.path)).toBe(false);
      await expect(store.getDelivery(d!.deliveryId)).rejects.toMatchObject({ code: 'JH_ERR_STORE_UNAVAILABLE' });
    });
  });
}
