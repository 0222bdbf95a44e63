import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { JobhookError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import type {
  EnvelopeParseResult,
  IncomingDelivery,
  RequestRecord,
  RequestSettledEvent,
  SpooledBody,
} from '../../src/types.js';
import { waitFor } from '../helpers/receiver-harness.js';

/**
 * The behaviour every `Store` backend must show, pinned through the interface alone (no SQL, no file
 * layout), after undici's cache-store-test-utils: one suite, called by each backend's test file.
 *
 * `open` makes a fresh, empty database; `second` opens another connection to that same database (another
 * process, as far as the store can tell); `cleanup` closes every store it opened and removes the database.
 * Cases where two connections misbehave today are `it.todo`, citing issue #11, until the redesign lands.
 */
export interface StoreUnderTest {
  store: Store;
  second: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

const STT = '/ai/audio/v1/async/speech-to-text';
const PUNCTUATE = '/ai/text/v1/async/punctuate';
const iso = (ms: number): string => new Date(ms).toISOString();

/** An envelope as the AI API sends it; `extra` pads or varies the bytes. */
function envelope(jobId: string | null, status: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      ...(jobId === null ? {} : { jobId, api: STT }),
      creationTime: '2026-11-20T10:00:00.000Z',
      status,
      ...extra,
    }),
  );
}

/**
 * The parser handed to `indexDeliveries`: the store must keep whatever verdict it gives, so it is the test's
 * own (not the production one) and records what it was asked to parse.
 */
function recordingParser(): { parse: (body: Buffer) => EnvelopeParseResult; parsed: string[] } {
  const parsed: string[] = [];
  const parse = (body: Buffer): EnvelopeParseResult => {
    parsed.push(body.toString('utf8'));
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return { ok: false, error: 'test parser: not JSON' };
    }
    const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (typeof v.status !== 'string') return { ok: false, error: 'test parser: no status' };
    const text = (x: unknown): string | null => (typeof x === 'string' ? x : null);
    return {
      ok: true,
      envelope: {
        jobId: text(v.jobId),
        api: text(v.api),
        status: v.status,
        creationTime: text(v.creationTime),
        completionTime: text(v.completionTime),
        expirationTime: text(v.expirationTime),
      },
    };
  };
  return { parse, parsed };
}

function receipt(requestId: string, body: Buffer, receivedAtMs = Date.now(), more: Partial<IncomingDelivery> = {}) {
  return {
    requestId,
    source: 'webhook',
    body,
    rawHeaders: ['Content-Type', 'application/json'],
    receivedAtMs,
    ...more,
  } satisfies IncomingDelivery;
}

async function mint(store: Store, createdAtMs = Date.now(), more: { api?: string } = {}): Promise<string> {
  const requestId = newRequestId(createdAtMs);
  await store.createRequest({
    requestId,
    kind: 'job',
    callbackUrl: `http://127.0.0.1/webhooks/${requestId}/t`,
    createdAtMs,
    ...more,
  });
  return requestId;
}

/** A minted request whose job was accepted under `jobId`, as the client leaves it. */
async function submitted(store: Store, jobId: string, createdAtMs = Date.now()): Promise<string> {
  const requestId = await mint(store, createdAtMs);
  await store.updateSubmission(requestId, { state: 'accepted', jobId });
  return requestId;
}

async function settle(store: Store, requestId: string, status: 'Success' | 'Fail', jobId: string): Promise<number> {
  const [d] = await store.recordDeliveries([receipt(requestId, envelope(jobId, status))]);
  await store.indexDeliveries(recordingParser().parse);
  return d!.deliveryId;
}

async function spool(store: Store, chunks: Buffer[]): Promise<{ body: SpooledBody; sha: Buffer; bytes: Buffer }> {
  const sink = await store.openBodySink();
  for (const chunk of chunks) await sink.write(chunk);
  const bytes = Buffer.concat(chunks);
  return { body: await sink.finish(), sha: createHash('sha256').update(bytes).digest(), bytes };
}

const ids = (records: RequestRecord[]): string[] => records.map((r) => r.requestId);

export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let t: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      t = await open();
      store = t.store;
    });
    afterEach(async () => {
      await t.cleanup();
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

      it('refuses a second request with the same ID and keeps the first', async () => {
        const requestId = await mint(store, 1000, { api: STT });
        const again = store.createRequest({ requestId, kind: 'job', callbackUrl: 'other', api: PUNCTUATE });
        await expect(again).rejects.toBeInstanceOf(JobhookError);
        expect(await store.findRequest(requestId)).toMatchObject({
          api: STT,
          callbackUrl: expect.stringContaining(requestId),
        });
      });
      it.todo(
        'a duplicate request ID is a conflict, not JH_ERR_STORE_UNAVAILABLE (issue #11: unavailable vs conflict)',
      );
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
        const { parse, parsed } = recordingParser();
        expect(await store.indexDeliveries(parse)).toMatchObject({ examined: 5, duplicates: 2, settled: [] });
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
        expect(await other.indexDeliveries(parse)).toMatchObject({ examined: 1, duplicates: 1 });
        expect(parsed).toHaveLength(3);
        expect(await store.getDelivery(first!.deliveryId)).toMatchObject({ count: 4, lastReceivedAt: iso(9000) });
        expect(await store.findRequest(a)).toMatchObject({ deliveryCount: 5 });
        expect(await store.indexDeliveries(parse)).toEqual({ examined: 0, duplicates: 0, settled: [], blocked: false });
      });

      it("keeps the parser's verdict: the bytes always, the envelope or the error", async () => {
        const requestId = await mint(store);
        const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
        const [bad, good] = await store.recordDeliveries([
          receipt(requestId, garbage),
          receipt(requestId, envelope('job-v', 'Queued', { completionTime: 'c', expirationTime: 'e' })),
        ]);
        await store.indexDeliveries(recordingParser().parse);
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
        expect(await store.indexDeliveries(recordingParser().parse, 2)).toMatchObject({ examined: 2 });
        expect((await store.listDeliveries(requestId)).map((d) => d.parseState)).toEqual([
          'parsed',
          'parsed',
          'pending',
          'pending',
          'pending',
        ]);
        expect(await store.indexDeliveries(recordingParser().parse, 10)).toMatchObject({ examined: 3 });
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
        expect((await store.indexDeliveries(recordingParser().parse)).settled).toEqual([expected]);
        expect(events).toEqual([expected]);
        const settled = await store.findRequest(requestId);
        expect(settled).toMatchObject({ state: 'failed', outcomeDeliveryId: fail!.deliveryId, jobId: 'job-7' });
        expect(settled!.completedAt).not.toBeNull();
        // A later Success is kept, not applied.
        await store.recordDeliveries([receipt(requestId, envelope('job-7', 'Success', { late: true }))]);
        expect((await store.indexDeliveries(recordingParser().parse)).settled).toEqual([]);
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
        await store.indexDeliveries(recordingParser().parse);
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
          store.indexDeliveries(recordingParser().parse, 3),
          other.indexDeliveries(recordingParser().parse, 3),
        ]);
        const rest = await store.indexDeliveries(recordingParser().parse);
        const all = [...passes, rest];
        expect(all.reduce((n, p) => n + p.examined, 0)).toBe(8);
        expect(all.reduce((n, p) => n + p.duplicates, 0)).toBe(4);
        expect(all.flatMap((p) => p.settled.map((s) => s.requestId)).sort()).toEqual([...requests].sort());
        for (const id of requests) expect((await store.listDeliveries(id)).map((d) => d.count)).toEqual([2]);
      });
      it.todo(
        'a receipt committed after a later one was already indexed is still indexed (issue #11: found by its own state, not a watermark)',
      );
      it.todo(
        'a listener whose connection to the database dropped re-reads what it waits for, missing no settlement (issue #11: catch-up)',
      );
    });

    describe('several jobs on one callback URL', () => {
      it('gives each further jobId its own request pointing at the URL it arrived on', async () => {
        const parent = await submitted(store, 'job-a', 1000);
        const [a, b] = await store.recordDeliveries([
          receipt(parent, envelope('job-a', 'Success')),
          receipt(parent, envelope('job-b', 'InProgress')),
        ]);
        const pass = await store.indexDeliveries(recordingParser().parse);
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
        expect(await store.indexDeliveries(recordingParser().parse)).toMatchObject({ examined: 2, duplicates: 1 });
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
        await store.indexDeliveries(recordingParser().parse);
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
        const [d] = await store.recordDeliveries([
          receipt(requestId, Buffer.alloc(0), 1000, { body, bodySha256: sha }),
        ]);
        const stored = await (await t.second()).getDelivery(d!.deliveryId);
        expect(stored!.body.equals(bytes)).toBe(true);
        expect(stored!.bodySha256).toBe(sha.toString('hex'));
        await store.indexDeliveries(recordingParser().parse);
        const [indexed] = await store.listDeliveries(requestId);
        expect(indexed!.body.equals(bytes)).toBe(true);
        expect(indexed).toMatchObject({ parseState: 'unparseable', parseError: 'test parser: not JSON' });
      });

      it('lists spooled receipts to parse off the event loop, blocks on them, and takes the verdict given', async () => {
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
        const { parse, parsed } = recordingParser();
        expect(await store.indexDeliveries(parse, 100, new Map())).toMatchObject({
          examined: 1,
          blocked: true,
          settled: [],
        });
        expect((await store.listDeliveries(requestId)).map((d) => [d.deliveryId, d.parseState])).toEqual([
          [small!.deliveryId, 'parsed'],
          [large!.deliveryId, 'pending'],
        ]);
        const verdict = recordingParser().parse(big);
        const pass = await store.indexDeliveries(parse, 100, new Map([[large!.deliveryId, verdict]]));
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
        expect(await store.indexDeliveries(parse, 100, new Map())).toMatchObject({
          examined: 1,
          duplicates: 1,
          blocked: false,
        });
        expect((await store.getDelivery(large!.deliveryId))!.count).toBe(2);
      });

      it('parses a spooled body itself when no verdicts are passed', async () => {
        const requestId = await mint(store);
        const big = envelope('job-t', 'Fail', { pad: 'y'.repeat(1_200_000) });
        const { body, sha } = await spool(store, [big]);
        await store.recordDeliveries([receipt(requestId, Buffer.alloc(0), Date.now(), { body, bodySha256: sha })]);
        const { parse, parsed } = recordingParser();
        expect(await store.indexDeliveries(parse)).toMatchObject({ examined: 1, blocked: false });
        expect(parsed).toEqual([big.toString('utf8')]);
        expect(await store.findRequest('job-t')).toMatchObject({ requestId, state: 'failed' });
      });

      it('refuses a spooled body without its hash, recording nothing of the batch', async () => {
        const requestId = await mint(store);
        const { body } = await spool(store, [Buffer.from('{"status":"Success"}')]);
        const batch = [
          receipt(requestId, Buffer.from('{}')),
          receipt(requestId, Buffer.alloc(0), Date.now(), { body }),
        ];
        await expect(store.recordDeliveries(batch)).rejects.toMatchObject({ code: 'JH_ERR_INVALID_ARGUMENT' });
        expect(await store.listDeliveries(requestId)).toEqual([]);
      });

      it('removes a spooled body that was discarded', async () => {
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
        await store.indexDeliveries(recordingParser().parse);
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
        await store.indexDeliveries(recordingParser().parse);
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

      it('marks submissions left `submitting` as unknown, once', async () => {
        const cut = await mint(store);
        await store.updateSubmission(cut, { state: 'submitting' });
        const done = await submitted(store, 'job-done');
        expect(await store.markInterruptedSubmissions()).toEqual([cut]);
        expect(await store.findRequest(cut)).toMatchObject({ submitState: 'unknown' });
        expect(await store.findRequest(done)).toMatchObject({ submitState: 'accepted' });
        expect(await store.markInterruptedSubmissions()).toEqual([]);
      });
      it.todo(
        "markInterruptedSubmissions leaves another live process's in-flight submission alone (issue #11: submit beside dev)",
      );
    });

    describe('reconciliation', () => {
      it('lists pending requests with a jobId whose check is due, oldest due first, up to `limit`', async () => {
        const now = Date.now();
        const oldest = await submitted(store, 'job-1', now - 30 * 60_000);
        const older = await submitted(store, 'job-2', now - 20 * 60_000);
        const fresh = await submitted(store, 'job-3', now);
        await mint(store, now - 60 * 60_000); // no jobId: nothing to read back
        const done = await submitted(store, 'job-4', now - 60 * 60_000);
        await settle(store, done, 'Success', 'job-4');
        expect(ids(await store.listDueForCheck(now, 5 * 60_000, 10))).toEqual([oldest, older]);
        expect(ids(await store.listDueForCheck(now, 5 * 60_000, 1))).toEqual([oldest]);
        expect(ids(await (await t.second()).listDueForCheck(now, 0, 10))).toEqual([oldest, older, fresh]);
        expect(await store.countNotYetDue(now, 5 * 60_000)).toEqual({ count: 1, nextDueAtMs: now + 5 * 60_000 });
      });

      it('reschedules a check, counting it, and expires a request once', async () => {
        const now = Date.now();
        const id = await submitted(store, 'job-r', now - 10 * 60_000);
        await store.scheduleCheck(id, now + 60_000);
        await store.scheduleCheck(id, now + 90_000);
        expect(await store.findRequest(id)).toMatchObject({ checkCount: 2, nextCheckAt: iso(now + 90_000) });
        expect(await store.listDueForCheck(now, 5 * 60_000, 10)).toEqual([]);
        expect(await store.countNotYetDue(now, 5 * 60_000)).toEqual({ count: 1, nextDueAtMs: now + 90_000 });
        expect(ids(await store.listDueForCheck(now + 90_000, 5 * 60_000, 10))).toEqual([id]);
        const events: RequestSettledEvent[] = [];
        store.onSettled((e) => events.push(e));
        expect(await store.markExpired(id)).toBe(true);
        expect(await (await t.second()).markExpired(id)).toBe(false);
        expect(await store.findRequest(id)).toMatchObject({
          state: 'expired',
          outcomeDeliveryId: null,
          completedAt: expect.any(String),
        });
        expect(events).toEqual([{ requestId: id, jobId: 'job-r', api: null, state: 'expired', deliveryId: null }]);
        expect(await store.listDueForCheck(now + 90_000, 0, 10)).toEqual([]);
        expect(await store.countNotYetDue(now, 0)).toEqual({ count: 0, nextDueAtMs: null });
        const settled = await mint(store);
        await settle(store, settled, 'Fail', 'job-f');
        expect(await store.markExpired(settled)).toBe(false);
        expect(await store.findRequest(settled)).toMatchObject({ state: 'failed' });
      });
      it.todo('listDueForCheck claims what it lists, so two instances never check one job at once (issue #11)');
    });

    describe('handler runs', () => {
      it('owes runs for requests settled succeeded/failed after registration, filtered by api', async () => {
        const before = await mint(store);
        await settle(store, before, 'Success', 'job-before');
        await store.registerHandler('h');
        const ok = await mint(store);
        const failed = await mint(store);
        const expired = await mint(store);
        const punctuate = await mint(store, Date.now(), { api: PUNCTUATE });
        await settle(store, ok, 'Success', 'job-ok');
        await settle(store, failed, 'Fail', 'job-failed');
        await store.markExpired(expired);
        await store.recordDeliveries([receipt(punctuate, Buffer.from('{"status":"Success"}'))]);
        await store.indexDeliveries(recordingParser().parse);
        await store.registerHandler('h'); // again: no reset
        const now = Date.now();
        const runs = await store.claimHandlerRuns('h', STT, now, 30_000, 10);
        expect(runs.map((r) => r.requestId).sort()).toEqual([ok, failed].sort());
        expect(runs[0]).toMatchObject({ handler: 'h', state: 'running', attempts: 1, lastError: null });
        expect(await store.listHandlerRuns(before)).toEqual([]);
        expect(await store.listHandlerRuns(expired)).toEqual([]);
        expect(await store.claimHandlerRuns('h', null, now, 30_000, 10)).toEqual([
          expect.objectContaining({ requestId: punctuate, attempts: 1 }),
        ]);
      });

      it('leases a run until it expires, then lets it be claimed again, counting attempts', async () => {
        await store.registerHandler('h');
        const id = await mint(store);
        await settle(store, id, 'Success', 'job-l');
        const now = Date.now();
        const other = await t.second();
        const [first, second] = await Promise.all([
          store.claimHandlerRuns('h', null, now, 30_000, 10),
          other.claimHandlerRuns('h', null, now, 30_000, 10),
        ]);
        expect([...first, ...second].map((r) => r.requestId)).toEqual([id]);
        expect(await store.claimHandlerRuns('h', null, now + 29_999, 30_000, 10)).toEqual([]);
        expect(await other.claimHandlerRuns('h', null, now + 30_000, 30_000, 10)).toEqual([
          expect.objectContaining({ requestId: id, state: 'running', attempts: 2 }),
        ]);
      });

      it('completes, retries with back-off, dead-letters, lists by handler, and replays', async () => {
        await store.registerHandler('a');
        await store.registerHandler('b');
        const id = await mint(store);
        await settle(store, id, 'Success', 'job-h');
        const now = Date.now();
        expect(await store.claimHandlerRuns('a', null, now, 30_000, 10)).toHaveLength(1);
        expect(await store.claimHandlerRuns('b', null, now, 30_000, 10)).toHaveLength(1);
        await store.completeHandlerRun('a', id, { ok: true });
        await store.completeHandlerRun('b', id, { ok: false, error: 'boom', retryAtMs: now + 5000 });
        expect((await store.listHandlerRuns(id)).map((r) => [r.handler, r.state, r.attempts, r.lastError])).toEqual([
          ['a', 'succeeded', 1, null],
          ['b', 'pending', 1, 'boom'],
        ]);
        expect((await store.listHandlerRuns(id))[1]!.nextAttemptAt).toBe(iso(now + 5000));
        expect(await store.claimHandlerRuns('a', null, now + 60_000, 30_000, 10)).toEqual([]);
        expect(await store.claimHandlerRuns('b', null, now + 4999, 30_000, 10)).toEqual([]);
        expect(await store.claimHandlerRuns('b', null, now + 5000, 30_000, 10)).toEqual([
          expect.objectContaining({ attempts: 2 }),
        ]);
        await store.completeHandlerRun('b', id, { ok: false, error: 'boom again', retryAtMs: null });
        expect((await store.listHandlerRuns(id))[1]).toMatchObject({
          state: 'dead',
          attempts: 2,
          lastError: 'boom again',
        });
        expect(await store.claimHandlerRuns('b', null, now + 600_000, 30_000, 10)).toEqual([]);
        expect(await store.retryHandlerRuns(id)).toBe(1);
        expect((await store.listHandlerRuns(id)).map((r) => [r.handler, r.state, r.attempts])).toEqual([
          ['a', 'succeeded', 1],
          ['b', 'pending', 0],
        ]);
        expect(await store.retryHandlerRuns(id, { all: true })).toBe(2);
        expect((await (await t.second()).listHandlerRuns(id)).map((r) => r.state)).toEqual(['pending', 'pending']);
        expect(await store.retryHandlerRuns(randomUUID())).toBe(0);
      });
      it.todo(
        "completing a run requires owning its lease: a process whose lease expired cannot dead-letter the new owner's run (issue #11)",
      );
      it('retryHandlerRuns({ all: true }) leaves a run still leased alone, so no second owner takes it', async () => {
        await store.registerHandler('h');
        const id = await mint(store);
        await settle(store, id, 'Success', 'job-leased');
        const now = Date.now();
        expect(await store.claimHandlerRuns('h', null, now, 600_000, 10)).toHaveLength(1);
        // Before: the replay reset it to pending, and the other process claimed it while it still ran here.
        expect(await store.retryHandlerRuns(id, { all: true })).toBe(0);
        expect(await (await t.second()).claimHandlerRuns('h', null, now + 5_000, 30_000, 10)).toEqual([]);
        expect((await store.listHandlerRuns(id))[0]).toMatchObject({ state: 'running', attempts: 1 });
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
          ['indexDeliveries', () => store.indexDeliveries(recordingParser().parse)],
          ['updateSubmission', () => store.updateSubmission(requestId, { state: 'submitting' })],
          ['markInterruptedSubmissions', () => store.markInterruptedSubmissions()],
          ['listDueForCheck', () => store.listDueForCheck(0, 0, 1)],
          ['countNotYetDue', () => store.countNotYetDue(0, 0)],
          ['scheduleCheck', () => store.scheduleCheck(requestId, 0)],
          ['markExpired', () => store.markExpired(requestId)],
          ['getDelivery', () => store.getDelivery(1)],
          ['registerHandler', () => store.registerHandler('h')],
          ['claimHandlerRuns', () => store.claimHandlerRuns('h', null, 0, 1, 1)],
          ['completeHandlerRun', () => store.completeHandlerRun('h', requestId, { ok: true })],
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
  });
}
