import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { RequestSettledEvent } from '../../src/types.js';
import type { ContractContext, StoreUnderTest } from './contract.js';
import { ids, mint, PUNCTUATE, receipt, recordingParser, settle, sleep, STT, submitted } from './contract-helpers.js';

const RUN = (requestId: string) => ({ eventKey: `settled:${requestId}` });

/** The contract of the claimed work: status checks, handler runs, the shared rate budget. */
export function describeQueuesContract(ctx: ContractContext): void {
  let t: StoreUnderTest;
  let store: Store;
  beforeEach(() => {
    t = ctx.t;
    store = t.store;
  });

  describe('status checks (claimed)', () => {
    it('claims pending requests with a jobId whose check is due, oldest due first, up to `limit`', async () => {
      const now = Date.now();
      const oldest = await submitted(store, 'job-1', now - 30 * 60_000);
      const older = await submitted(store, 'job-2', now - 20 * 60_000);
      const fresh = await submitted(store, 'job-3', now);
      await mint(store, now - 60 * 60_000); // no jobId: nothing to read back
      const done = await submitted(store, 'job-4', now - 60 * 60_000);
      await settle(store, done, 'Success', 'job-4');
      expect(await store.countNotYetDue(5 * 60_000)).toEqual({ count: 1, nextDueAtMs: now + 5 * 60_000 });
      expect(ids(await store.claimDueChecks(5 * 60_000, 60_000, 1))).toEqual([oldest]);
      expect(ids(await store.claimDueChecks(5 * 60_000, 60_000, 10))).toEqual([older]);
      // Claimed ones are not offered again, to this owner or another, while the lease holds.
      expect(await store.claimDueChecks(5 * 60_000, 60_000, 10)).toEqual([]);
      expect(ids(await (await t.second()).claimDueChecks(0, 60_000, 10))).toEqual([fresh]);
    });

    it('never hands one job to two instances claiming at once', async () => {
      const now = Date.now();
      const jobs = await Promise.all([...Array(12).keys()].map((i) => submitted(store, `job-c${i}`, now - 60_000 - i)));
      const other = await t.second();
      const claimed = await Promise.all([
        store.claimDueChecks(0, 60_000, 5),
        other.claimDueChecks(0, 60_000, 5),
        store.claimDueChecks(0, 60_000, 5),
        other.claimDueChecks(0, 60_000, 5),
      ]);
      const all = claimed.flatMap(ids);
      expect(all.length).toBe(12);
      expect(new Set(all).size).toBe(12);
      expect([...all].sort()).toEqual([...jobs].sort());
    });

    it('reschedules a check (releasing the claim), refuses another owner while its lease holds, takes over after', async () => {
      const id = await submitted(store, 'job-r', Date.now() - 10 * 60_000);
      const other = await t.second();
      expect(ids(await store.claimDueChecks(0, 150, 10))).toEqual([id]);
      expect(await other.scheduleCheck(id, 60_000)).toBe(false);
      expect(await other.claimDueChecks(0, 60_000, 10)).toEqual([]);
      await sleep(250);
      // The first owner stopped answering: its lease ran out, and the job is another's to check.
      expect(ids(await other.claimDueChecks(0, 60_000, 10))).toEqual([id]);
      expect(await store.scheduleCheck(id, 60_000)).toBe(false);
      expect(await other.scheduleCheck(id, 60_000)).toBe(true);
      const record = await store.findRequest(id);
      expect(record!.checkCount).toBe(1);
      expect(Date.parse(record!.nextCheckAt!)).toBeGreaterThan(Date.now() + 50_000);
      expect(await store.claimDueChecks(0, 60_000, 10)).toEqual([]);
      expect((await store.countNotYetDue(0)).count).toBe(1);
      // Due again at once when rescheduled with no delay.
      expect(await store.scheduleCheck(id, -1)).toBe(true);
      expect(ids(await store.claimDueChecks(0, 60_000, 10))).toEqual([id]);
      await expect(store.scheduleCheck(randomUUID(), 1000)).rejects.toMatchObject({ code: 'JH_ERR_NOT_FOUND' });
    });

    it('expires a pending request once, with a hint, and never a settled one', async () => {
      const id = await submitted(store, 'job-e', Date.now() - 10 * 60_000);
      const events: RequestSettledEvent[] = [];
      store.onSettled((e) => events.push(e));
      expect(await store.markExpired(id)).toBe(true);
      expect(await (await t.second()).markExpired(id)).toBe(false);
      expect(await store.findRequest(id)).toMatchObject({
        state: 'expired',
        outcomeDeliveryId: null,
        completedAt: expect.any(String),
      });
      expect(events).toEqual([{ requestId: id, jobId: 'job-e', api: null, state: 'expired', deliveryId: null }]);
      expect(await store.claimDueChecks(0, 60_000, 10)).toEqual([]);
      expect(await store.scheduleCheck(id, 1000)).toBe(false);
      expect(await store.countNotYetDue(0)).toEqual({ count: 0, nextDueAtMs: null });
      const settled = await mint(store);
      await settle(store, settled, 'Fail', 'job-f');
      expect(await store.markExpired(settled)).toBe(false);
      expect(await store.findRequest(settled)).toMatchObject({ state: 'failed' });
    });
  });

  describe('handler runs', () => {
    it('creates runs when a request settles, for the handlers registered then whose api matches', async () => {
      const before = await mint(store);
      await settle(store, before, 'Success', 'job-before');
      await store.registerHandler('h', STT);
      await store.registerHandler('any', null);
      await store.registerHandler('h', STT); // again: no reset
      const ok = await mint(store);
      const failed = await mint(store);
      const expired = await mint(store);
      const punctuate = await mint(store, Date.now(), { api: PUNCTUATE });
      const okDelivery = await settle(store, ok, 'Success', 'job-ok');
      await settle(store, failed, 'Fail', 'job-failed');
      await store.markExpired(expired);
      await store.recordDeliveries([receipt(punctuate, Buffer.from('{"status":"Success"}'))]);
      await store.indexDeliveries(recordingParser().rules);
      // Created in the settling transaction: visible before anyone claims, on every connection.
      expect(await (await t.second()).listHandlerRuns(ok)).toEqual([
        expect.objectContaining({ handler: 'any', ...RUN(ok), requestId: ok, deliveryId: okDelivery }),
        expect.objectContaining({ handler: 'h', ...RUN(ok), state: 'pending', attempts: 0, owner: null }),
      ]);
      expect(await store.listHandlerRuns(before)).toEqual([]);
      expect(await store.listHandlerRuns(expired)).toEqual([]);
      expect((await store.listHandlerRuns(punctuate)).map((r) => r.handler)).toEqual(['any']);
      const runs = await store.claimHandlerRuns('h', 30_000, 10);
      expect(runs.map((r) => r.requestId).sort()).toEqual([ok, failed].sort());
      expect(runs[0]).toMatchObject({ handler: 'h', state: 'running', attempts: 1, owner: store.ownerId });
      expect((await store.claimHandlerRuns('any', 30_000, 10)).map((r) => r.requestId).sort()).toEqual(
        [ok, failed, punctuate].sort(),
      );
    });

    it('leases a run to one owner until the lease expires, then another takes it, counting attempts', async () => {
      await store.registerHandler('h', null);
      const id = await mint(store);
      await settle(store, id, 'Success', 'job-l');
      const other = await t.second();
      const [first, second] = await Promise.all([
        store.claimHandlerRuns('h', 200, 10),
        other.claimHandlerRuns('h', 200, 10),
      ]);
      expect([...first, ...second].map((r) => r.requestId)).toEqual([id]);
      const firstOwner = first.length === 1 ? store : other;
      const secondOwner = firstOwner === store ? other : store;
      expect(await secondOwner.claimHandlerRuns('h', 200, 10)).toEqual([]);
      await sleep(300);
      expect(await secondOwner.claimHandlerRuns('h', 30_000, 10)).toEqual([
        expect.objectContaining({ requestId: id, state: 'running', attempts: 2, owner: secondOwner.ownerId }),
      ]);
      // The first owner's lease ran out: its completion is refused and writes nothing.
      await expect(firstOwner.completeHandlerRun({ handler: 'h', ...RUN(id) }, { ok: true })).rejects.toMatchObject({
        code: 'JH_ERR_LEASE_LOST',
      });
      await expect(
        firstOwner.completeHandlerRun({ handler: 'h', ...RUN(id) }, { ok: false, error: 'late', retryInMs: null }),
      ).rejects.toMatchObject({ code: 'JH_ERR_LEASE_LOST' });
      expect((await store.listHandlerRuns(id))[0]).toMatchObject({ state: 'running', owner: secondOwner.ownerId });
      await secondOwner.completeHandlerRun({ handler: 'h', ...RUN(id) }, { ok: true });
      expect((await store.listHandlerRuns(id))[0]).toMatchObject({ state: 'succeeded', attempts: 2, owner: null });
      // Completing twice, or a run never claimed: refused too.
      await expect(secondOwner.completeHandlerRun({ handler: 'h', ...RUN(id) }, { ok: true })).rejects.toMatchObject({
        code: 'JH_ERR_LEASE_LOST',
      });
    });

    it('completes, retries with back-off on the database clock, dead-letters, and replays', async () => {
      await store.registerHandler('a', null);
      await store.registerHandler('b', null);
      const id = await mint(store);
      await settle(store, id, 'Success', 'job-h');
      expect(await store.claimHandlerRuns('a', 30_000, 10)).toHaveLength(1);
      expect(await store.claimHandlerRuns('b', 30_000, 10)).toHaveLength(1);
      await store.completeHandlerRun({ handler: 'a', ...RUN(id) }, { ok: true });
      const before = Date.now();
      await store.completeHandlerRun({ handler: 'b', ...RUN(id) }, { ok: false, error: 'boom', retryInMs: 60_000 });
      expect((await store.listHandlerRuns(id)).map((r) => [r.handler, r.state, r.attempts, r.lastError])).toEqual([
        ['a', 'succeeded', 1, null],
        ['b', 'pending', 1, 'boom'],
      ]);
      const retryAt = Date.parse((await store.listHandlerRuns(id))[1]!.nextAttemptAt);
      expect(retryAt).toBeGreaterThanOrEqual(before + 59_000);
      expect(retryAt).toBeLessThanOrEqual(Date.now() + 61_000);
      expect(await store.claimHandlerRuns('a', 30_000, 10)).toEqual([]);
      expect(await store.claimHandlerRuns('b', 30_000, 10)).toEqual([]);
      // A retry due now is claimable at once.
      expect(await store.retryHandlerRuns(id)).toBe(0); // nothing dead yet
      const other = await t.second();
      await sleep(5);
      expect(await other.claimHandlerRuns('b', 30_000, 10)).toEqual([]);
      await store.registerHandler('c', null);
      const id2 = await mint(store);
      await settle(store, id2, 'Success', 'job-h2');
      expect(await store.claimHandlerRuns('c', 30_000, 10)).toHaveLength(1);
      await store.completeHandlerRun({ handler: 'c', ...RUN(id2) }, { ok: false, error: 'soon', retryInMs: 0 });
      expect(await other.claimHandlerRuns('c', 30_000, 10)).toEqual([expect.objectContaining({ attempts: 2 })]);
      await other.completeHandlerRun(
        { handler: 'c', ...RUN(id2) },
        { ok: false, error: 'boom again', retryInMs: null },
      );
      expect((await store.listHandlerRuns(id2)).find((r) => r.handler === 'c')).toMatchObject({
        state: 'dead',
        attempts: 2,
        lastError: 'boom again',
      });
      expect(await store.claimHandlerRuns('c', 30_000, 10)).toEqual([]);
      expect(await store.retryHandlerRuns(id2)).toBe(1);
      expect((await store.listHandlerRuns(id2)).map((r) => [r.handler, r.state, r.attempts])).toEqual([
        ['a', 'pending', 0],
        ['b', 'pending', 0],
        ['c', 'pending', 0],
      ]);
      expect(await store.retryHandlerRuns(id, { all: true })).toBe(2);
      expect((await other.listHandlerRuns(id)).map((r) => r.state)).toEqual(['pending', 'pending']);
      expect(await store.retryHandlerRuns(randomUUID())).toBe(0);
    });

    it('retryHandlerRuns({ all: true }) leaves a run still leased alone, so no second owner takes it', async () => {
      await store.registerHandler('h', null);
      const id = await mint(store);
      await settle(store, id, 'Success', 'job-leased');
      expect(await store.claimHandlerRuns('h', 600_000, 10)).toHaveLength(1);
      // Before: the replay reset it to pending, and the other process claimed it while it still ran here.
      expect(await store.retryHandlerRuns(id, { all: true })).toBe(0);
      expect(await (await t.second()).claimHandlerRuns('h', 30_000, 10)).toEqual([]);
      expect((await store.listHandlerRuns(id))[0]).toMatchObject({ state: 'running', attempts: 1 });
    });

    it('creates one run per handler and settlement when two connections index at once', async () => {
      await store.registerHandler('h', null);
      const other = await t.second();
      const requests = await Promise.all([...Array(10).keys()].map(() => mint(store)));
      await store.recordDeliveries(
        requests.map((id, i) => receipt(id, Buffer.from(`{"jobId":"j${i}","status":"Success"}`))),
      );
      await other.recordDeliveries(
        requests.map((id, i) => receipt(id, Buffer.from(`{"jobId":"j${i}","status":"Fail"}`))),
      );
      await Promise.all([
        store.indexDeliveries(recordingParser().rules, 3),
        other.indexDeliveries(recordingParser().rules, 3),
        store.indexDeliveries(recordingParser().rules, 3),
        other.indexDeliveries(recordingParser().rules, 3),
      ]);
      for (let pass; !pass || pass.examined > 0;) pass = await store.indexDeliveries(recordingParser().rules);
      const runs = await store.claimHandlerRuns('h', 30_000, 100);
      expect(runs.map((r) => r.requestId).sort()).toEqual([...requests].sort());
    });
  });

  describe('rate budget (shared)', () => {
    const limits = { capacity: 3, windowMs: 400 };

    it('grants at most `capacity` in a window across connections, then says how long to wait', async () => {
      const other = await t.second();
      const waits = [
        await store.takeRateToken('k', limits),
        await other.takeRateToken('k', limits),
        await store.takeRateToken('k', limits),
      ];
      expect(waits).toEqual([0, 0, 0]);
      const wait = await other.takeRateToken('k', limits);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(400 + 20 + 5);
      expect(await store.takeRateToken('another-key', limits)).toBe(0);
      await sleep(wait);
      expect(await store.takeRateToken('k', limits)).toBe(0);
    });

    it('gives low priority only what leaves `reserve` untouched', async () => {
      const low = { ...limits, reserve: 1 };
      expect(await store.takeRateToken('k', low)).toBe(0);
      expect(await store.takeRateToken('k', low)).toBe(0);
      expect(await store.takeRateToken('k', low)).toBeGreaterThan(0);
      expect(await store.takeRateToken('k', limits)).toBe(0);
      expect(await store.takeRateToken('k', limits)).toBeGreaterThan(0);
    });

    it('holds everyone after a report, only lengthening a hold, and counts what the platform says remains', async () => {
      const other = await t.second();
      await store.reportRate('k', { holdMs: 300, limits });
      await other.reportRate('k', { holdMs: 10, limits });
      const wait = await other.takeRateToken('k', limits);
      expect(wait).toBeGreaterThan(200);
      expect(wait).toBeLessThanOrEqual(300);
      await other.reportRate('r', { remaining: 1, limits });
      expect(await store.takeRateToken('r', limits)).toBe(0);
      expect(await store.takeRateToken('r', limits)).toBeGreaterThan(0);
    });
  });
}
