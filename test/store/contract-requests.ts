import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { JobhookError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import type { RequestRecord } from '../../src/types.js';
import type { ContractContext, StoreUnderTest } from './contract.js';
import {
  envelope,
  ids,
  iso,
  mint,
  PUNCTUATE,
  receipt,
  recordingParser,
  settle,
  STT,
  submitted,
} from './contract-helpers.js';

/** The contract of settings, write-ahead requests, display states, submissions, and closing. */
export function describeRequestsContract(ctx: ContractContext): void {
  let t: StoreUnderTest;
  let store: Store;
  beforeEach(() => {
    t = ctx.t;
    store = t.store;
  });

  describe('settings and secrets', () => {
    it('generates a setting once, reads and overwrites it, on every connection', async () => {
      expect(await store.getSetting('public_url')).toBeNull();
      expect(await store.ensureSetting('forward_secret', () => 'gen-1')).toBe('gen-1');
      expect(await store.ensureSetting('forward_secret', () => 'gen-2')).toBe('gen-1');
      await store.putSetting('public_url', 'http://127.0.0.1:1/a');
      await store.putSetting('public_url', 'http://127.0.0.1:1/b');
      const other = await t.second();
      expect(await other.getSetting('public_url')).toBe('http://127.0.0.1:1/b');
      expect(await other.ensureSetting('forward_secret', () => 'gen-3')).toBe('gen-1');
    });

    it('creates the first secret once and keeps rotated ones, newest first, shared by connections', async () => {
      expect(await store.ensureSecrets(() => 'secret-a')).toEqual(['secret-a']);
      expect(await store.ensureSecrets(() => 'secret-b')).toEqual(['secret-a']);
      expect(await store.addSecret('secret-c')).toEqual(['secret-c', 'secret-a']);
      const other = await t.second();
      expect(await other.ensureSecrets(() => 'secret-d')).toEqual(['secret-c', 'secret-a']);
    });
  });

  describe('requests (write-ahead)', () => {
    it('records a minted request with every field, visible to another connection', async () => {
      const requestId = newRequestId(1_700_000_000_000);
      const created = await store.createRequest({
        requestId,
        kind: 'subscription',
        callbackUrl: 'http://127.0.0.1/webhooks/x/t',
        api: PUNCTUATE,
        requestBody: '{"text":"hi"}',
        createdAtMs: 1_700_000_000_000,
      });
      const expected: RequestRecord = {
        requestId,
        kind: 'subscription',
        api: PUNCTUATE,
        callbackUrl: 'http://127.0.0.1/webhooks/x/t',
        origin: 'minted',
        parentRequestId: null,
        requestBody: '{"text":"hi"}',
        jobId: null,
        state: 'pending',
        outcomeDeliveryId: null,
        createdAt: iso(1_700_000_000_000),
        updatedAt: iso(1_700_000_000_000),
        completedAt: null,
        deliveryCount: 0,
        submitState: 'minted',
        submitError: null,
        checkCount: 0,
        nextCheckAt: null,
      };
      expect(created).toEqual(expected);
      expect(await (await t.second()).findRequest(requestId)).toEqual(expected);
      expect(await store.findRequest(randomUUID())).toBeUndefined();
    });

    it('refuses a second request with the same ID as a conflict (not an outage), keeping the first', async () => {
      const requestId = await mint(store, 1000, { api: STT });
      const again = store.createRequest({ requestId, kind: 'job', callbackUrl: 'other', api: PUNCTUATE });
      await expect(again).rejects.toMatchObject({ code: 'JH_ERR_STORE_CONFLICT' });
      const fromOther = (await t.second()).createRequest({ requestId, kind: 'job', callbackUrl: 'x' });
      await expect(fromOther).rejects.toMatchObject({ code: 'JH_ERR_STORE_CONFLICT' });
      expect(await store.findRequest(requestId)).toMatchObject({
        api: STT,
        callbackUrl: expect.stringContaining(requestId),
      });
      expect(store.health()).toEqual({ ok: true });
    });
  });

  describe('display states and pruning', () => {
    it('filters by display state: rejected and unknown are pending requests by submission', async () => {
      const t0 = Date.now() - 60_000;
      const minted = await mint(store, t0);
      const inFlight = await mint(store, t0 + 1);
      await store.updateSubmission(inFlight, { state: 'submitting' });
      const accepted = await submitted(store, 'job-acc', t0 + 2);
      const rejected = await mint(store, t0 + 3);
      await store.updateSubmission(rejected, { state: 'rejected', error: 'CAI-101' });
      const unknown = await mint(store, t0 + 4);
      await store.updateSubmission(unknown, { state: 'unknown' });
      const late = await mint(store, t0 + 5);
      await store.updateSubmission(late, { state: 'rejected', error: 'timeout' });
      await settle(store, late, 'Success', 'job-late');
      const expired = await mint(store, t0 + 6, { api: PUNCTUATE });
      await store.markExpired(expired);
      expect(ids(await store.listRequests({ state: 'pending' }))).toEqual([accepted, inFlight, minted]);
      expect(ids(await store.listRequests({ state: 'rejected' }))).toEqual([rejected]);
      expect(ids(await store.listRequests({ state: 'unknown' }))).toEqual([unknown]);
      expect(ids(await store.listRequests({ state: 'succeeded' }))).toEqual([late]);
      expect(ids(await store.listRequests({ state: 'expired', api: PUNCTUATE }))).toEqual([expired]);
      expect(await store.listRequests({ state: 'failed' })).toEqual([]);
      expect(ids(await store.listRequests())).toEqual([expired, late, unknown, rejected, accepted, inFlight, minted]);
      expect(ids(await store.listRequests({ limit: 2 }))).toEqual([expired, late]);
    });

    it('prunes only rejected/unknown requests older than the cutoff that nothing refers to', async () => {
      const old = Date.now() - 3_600_000;
      const make = async (state: 'rejected' | 'unknown', at: number) => {
        const id = await mint(store, at);
        await store.updateSubmission(id, { state });
        return id;
      };
      const gone = [await make('rejected', old), await make('rejected', old + 1)];
      const young = await make('rejected', Date.now());
      const otherState = await make('unknown', old);
      const withReceipt = await make('rejected', old);
      await store.recordDeliveries([receipt(withReceipt, Buffer.from('not json'))]);
      const parent = await make('rejected', old);
      await store.updateSubmission(parent, { state: 'rejected', jobId: 'job-p1' });
      await store.recordDeliveries([receipt(parent, envelope('job-p2', 'InProgress'))]);
      await store.indexDeliveries(recordingParser().rules);
      // The parent's own delivery moved to the child: only the child link keeps it.
      expect(await store.findRequest(parent)).toMatchObject({ deliveryCount: 0 });
      expect(await store.pruneRequests('rejected', Date.now() - 60_000)).toBe(2);
      for (const id of gone) expect(await store.findRequest(id)).toBeUndefined();
      for (const id of [young, otherState, withReceipt, parent]) expect(await store.findRequest(id)).toBeDefined();
      expect(await store.pruneRequests('unknown', Date.now() - 60_000)).toBe(1);
      expect(await store.pruneRequests('unknown', Date.now() - 60_000)).toBe(0);
    });
  });

  describe('submissions', () => {
    it('records submission progress, keeping a jobId the request already learned', async () => {
      const early = await mint(store);
      await store.updateSubmission(early, { state: 'submitting' });
      expect(await store.findRequest(early)).toMatchObject({ submitState: 'submitting', jobId: null });
      await store.recordDeliveries([receipt(early, envelope('job-webhook', 'InProgress'))]);
      await store.indexDeliveries(recordingParser().rules);
      await store.updateSubmission(early, { state: 'accepted', jobId: 'job-other' });
      expect(await store.findRequest(early)).toMatchObject({
        submitState: 'accepted',
        jobId: 'job-webhook',
        submitError: null,
      });
      expect(await store.findRequest('job-other')).toBeUndefined();
      const refused = await mint(store);
      await store.updateSubmission(refused, { state: 'rejected', error: 'CAI-101: contentUri' });
      expect(await (await t.second()).findRequest(refused)).toMatchObject({
        submitState: 'rejected',
        submitError: 'CAI-101: contentUri',
        jobId: null,
      });
    });

    it("marks unknown only the submissions of an owner that stopped, never another live process's", async () => {
      const other = await t.second();
      const cut = await mint(store);
      await store.updateSubmission(cut, { state: 'submitting' });
      const mine = await mint(store);
      await other.updateSubmission(mine, { state: 'submitting' });
      const done = await submitted(store, 'job-done');
      // Both processes are alive: `jobhook submit` beside `jobhook dev` marks nothing of the other's.
      expect(await other.markInterruptedSubmissions()).toEqual([]);
      expect(await store.markInterruptedSubmissions()).toEqual([]);
      expect(await store.findRequest(cut)).toMatchObject({ submitState: 'submitting' });
      await store.close();
      expect(await other.markInterruptedSubmissions()).toEqual([cut]);
      expect(await other.findRequest(cut)).toMatchObject({ submitState: 'unknown' });
      expect(await other.findRequest(mine)).toMatchObject({ submitState: 'submitting' });
      expect(await other.findRequest(done)).toMatchObject({ submitState: 'accepted' });
      expect(await other.markInterruptedSubmissions()).toEqual([]);
      await expect(other.updateSubmission(randomUUID(), { state: 'accepted' })).rejects.toMatchObject({
        code: 'JH_ERR_NOT_FOUND',
      });
    });
  });

  describe('health and close', () => {
    it('is healthy until closed, then refuses every call with JH_ERR_STORE_CLOSED', async () => {
      const requestId = await mint(store);
      const other = await t.second();
      expect(store.health()).toEqual({ ok: true });
      await store.close();
      await store.close();
      expect(store.health()).toEqual({ ok: false, problem: expect.any(String) });
      const calls: [string, () => Promise<unknown>][] = [
        ['ensureSecrets', () => store.ensureSecrets(() => 's')],
        ['ensureSetting', () => store.ensureSetting('k', () => 'v')],
        ['getSetting', () => store.getSetting('k')],
        ['putSetting', () => store.putSetting('k', 'v')],
        ['addSecret', () => store.addSecret('s')],
        ['createRequest', () => store.createRequest({ requestId: newRequestId(), kind: 'job', callbackUrl: 'u' })],
        ['recordDeliveries', () => store.recordDeliveries([receipt(requestId, Buffer.from('{}'))])],
        ['openBodySink', () => store.openBodySink()],
        ['listUnparsedSpooled', () => store.listUnparsedSpooled(1)],
        ['indexDeliveries', () => store.indexDeliveries(recordingParser().rules)],
        ['updateSubmission', () => store.updateSubmission(requestId, { state: 'submitting' })],
        ['markInterruptedSubmissions', () => store.markInterruptedSubmissions()],
        ['claimDueChecks', () => store.claimDueChecks(0, 1, 1)],
        ['countNotYetDue', () => store.countNotYetDue(0)],
        ['scheduleCheck', () => store.scheduleCheck(requestId, 0)],
        ['markExpired', () => store.markExpired(requestId)],
        ['getDelivery', () => store.getDelivery(1)],
        ['registerHandler', () => store.registerHandler('h', null)],
        ['claimHandlerRuns', () => store.claimHandlerRuns('h', 1, 1)],
        ['completeHandlerRun', () => store.completeHandlerRun({ handler: 'h', eventKey: 'e' }, { ok: true })],
        ['takeRateToken', () => store.takeRateToken('k', { capacity: 1, windowMs: 1 })],
        ['reportRate', () => store.reportRate('k', { holdMs: 1, limits: { capacity: 1, windowMs: 1 } })],
        ['listHandlerRuns', () => store.listHandlerRuns(requestId)],
        ['retryHandlerRuns', () => store.retryHandlerRuns(requestId)],
        ['pruneRequests', () => store.pruneRequests('rejected', 0)],
        ['findRequest', () => store.findRequest(requestId)],
        ['listRequests', () => store.listRequests()],
        ['listDeliveries', () => store.listDeliveries(requestId)],
      ];
      const codes = await Promise.all(
        calls.map(async ([method, call]) => {
          try {
            await call();
            return [method, 'resolved'];
          } catch (error) {
            return [method, (error as JobhookError).code];
          }
        }),
      );
      expect(codes).toEqual(calls.map(([method]) => [method, 'JH_ERR_STORE_CLOSED']));
      // The other connection is unaffected.
      expect(other.health()).toEqual({ ok: true });
      expect(await other.findRequest(requestId)).toMatchObject({ requestId });
    });
  });
}
