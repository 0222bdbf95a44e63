import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { parseEnvelope } from '../../src/ringcentral/envelope.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { IncomingDelivery, ParseOutcome, RequestSettledEvent } from '../../src/types.js';
import { BARE_PUNCTUATE, failEnvelope, sttEnvelope } from '../helpers/fixtures.js';
import { tempDbPath } from '../helpers/temp.js';

function delivery(requestId: string, body: unknown, receivedAtMs = Date.now()): IncomingDelivery {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { requestId, source: 'webhook', body: bytes, rawHeaders: ['Content-Type', 'application/json'], receivedAtMs };
}

function outcomeOf(deliveryId: number, body: Buffer): ParseOutcome {
  const parsed = parseEnvelope(body);
  return parsed.ok
    ? { deliveryId, ok: true, envelope: parsed.envelope }
    : { deliveryId, ok: false, error: parsed.error };
}

async function newStoreWithRequest(): Promise<{ store: SqliteStore; requestId: string; path: string }> {
  const path = tempDbPath();
  const store = new SqliteStore({ path });
  const requestId = newRequestId();
  await store.createRequest({ requestId, kind: 'job', callbackUrl: `http://x/webhooks/${requestId}/t` });
  return { store, requestId, path };
}

describe('SqliteStore', () => {
  it('records a minted request before any delivery and finds it by request ID', async () => {
    const { store, requestId } = await newStoreWithRequest();
    const found = await store.findRequest(requestId);
    expect(found).toMatchObject({ requestId, kind: 'job', state: 'pending', jobId: null, deliveryCount: 0 });
    await expect(store.createRequest({ requestId, kind: 'job', callbackUrl: 'x' })).rejects.toMatchObject({
      code: 'JH_ERR_STORE_UNAVAILABLE',
    });
    await store.close();
  });

  it('stores an identical body once with a count, and different bodies separately', async () => {
    const { store, requestId } = await newStoreWithRequest();
    const body = sttEnvelope('job-1');
    const [first] = await store.recordDeliveries([delivery(requestId, body)]);
    const [second, third] = await store.recordDeliveries([
      delivery(requestId, body),
      delivery(requestId, { ...body, status: 'InProgress' }),
    ]);
    expect(first).toMatchObject({ duplicate: false, count: 1 });
    expect(second).toMatchObject({ deliveryId: first!.deliveryId, duplicate: true, count: 2 });
    expect(third).toMatchObject({ duplicate: false, count: 1 });
    const deliveries = await store.listDeliveries(requestId);
    expect(deliveries.map((d) => d.count)).toEqual([2, 1]);
    expect((await store.findRequest(requestId))!.deliveryCount).toBe(3);
    await store.close();
  });

  it('settles a request on its first terminal envelope, indexes the jobId and emits once', async () => {
    const { store, requestId } = await newStoreWithRequest();
    const events: RequestSettledEvent[] = [];
    store.onSettled((e) => events.push(e));
    const bodies = [
      Buffer.from(JSON.stringify({ ...sttEnvelope('job-7'), status: 'InProgress' })),
      Buffer.from(JSON.stringify(failEnvelope('job-7'))),
      Buffer.from(JSON.stringify(sttEnvelope('job-7'))),
    ];
    const recorded = await store.recordDeliveries(bodies.map((b) => delivery(requestId, b)));
    await store.recordParseOutcomes(recorded.map((r, i) => outcomeOf(r.deliveryId, bodies[i]!)));

    const request = await store.findRequest('job-7');
    expect(request).toMatchObject({
      requestId,
      jobId: 'job-7',
      state: 'failed',
      outcomeDeliveryId: recorded[1]!.deliveryId,
    });
    expect(request!.completedAt).not.toBeNull();
    expect(events).toEqual([
      {
        requestId,
        jobId: 'job-7',
        api: '/ai/audio/v1/async/speech-to-text',
        state: 'failed',
        deliveryId: recorded[1]!.deliveryId,
      },
    ]);
    await store.close();
  });

  it('keeps unparseable bodies, marks them, and correlates the bare form through the URL', async () => {
    const { store, requestId } = await newStoreWithRequest();
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const bare = Buffer.from(JSON.stringify(BARE_PUNCTUATE));
    const recorded = await store.recordDeliveries([delivery(requestId, garbage), delivery(requestId, bare)]);
    expect(await store.listUnparsedDeliveries(10)).toHaveLength(2);
    await store.recordParseOutcomes([
      outcomeOf(recorded[0]!.deliveryId, garbage),
      outcomeOf(recorded[1]!.deliveryId, bare),
    ]);
    const [stored, parsed] = await store.listDeliveries(requestId);
    expect(stored!.body.equals(garbage)).toBe(true);
    expect(stored).toMatchObject({ parseState: 'unparseable', envelope: null });
    expect(stored!.parseError).toMatch(/not JSON/);
    expect(parsed).toMatchObject({ parseState: 'parsed', envelope: { status: 'Success', jobId: null } });
    expect(await store.findRequest(requestId)).toMatchObject({ state: 'succeeded', jobId: null });
    expect(await store.listUnparsedDeliveries(10)).toHaveLength(0);
    await store.close();
  });

  it('leaves a request pending on an unknown status', async () => {
    const { store, requestId } = await newStoreWithRequest();
    const body = Buffer.from(JSON.stringify({ ...sttEnvelope('job-q'), status: 'Queued' }));
    const [r] = await store.recordDeliveries([delivery(requestId, body)]);
    expect(await store.recordParseOutcomes([outcomeOf(r!.deliveryId, body)])).toEqual([]);
    expect(await store.findRequest('job-q')).toMatchObject({ state: 'pending', jobId: 'job-q' });
    await store.close();
  });

  it('stores a delivery for a request it never recorded rather than lose it', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const requestId = newRequestId();
    await store.recordDeliveries([delivery(requestId, sttEnvelope('j'))]);
    expect(await store.findRequest(requestId)).toMatchObject({ callbackUrl: null, deliveryCount: 1 });
    await store.close();
  });

  it('persists secrets across reopen and keeps rotated ones, newest first', async () => {
    const path = tempDbPath();
    let store = new SqliteStore({ path });
    const first = await store.ensureSecrets(() => 'secret-a');
    expect(await store.ensureSecrets(() => 'secret-b')).toEqual(first);
    await store.close();
    store = new SqliteStore({ path });
    expect(await store.ensureSecrets(() => 'secret-c')).toEqual(['secret-a']);
    expect(await store.addSecret('secret-d')).toEqual(['secret-d', 'secret-a']);
    await store.close();
  });

  it('lists newest first with filters, and reports a closed store by code', async () => {
    const store = new SqliteStore({ path: tempDbPath() });
    const ids = [newRequestId(1000), newRequestId(2000), newRequestId(3000)];
    for (const [i, requestId] of ids.entries()) {
      await store.createRequest({
        requestId,
        kind: 'job',
        callbackUrl: 'u',
        api: i === 1 ? '/ai/text/v1/async/punctuate' : null,
        createdAtMs: 1000 * (i + 1),
      });
    }
    expect((await store.listRequests()).map((r) => r.requestId)).toEqual([...ids].reverse());
    expect((await store.listRequests({ api: '/ai/text/v1/async/punctuate' })).map((r) => r.requestId)).toEqual([
      ids[1],
    ]);
    expect(await store.listRequests({ state: 'succeeded' })).toEqual([]);
    expect(await store.listRequests({ limit: 1 })).toHaveLength(1);
    await store.close();
    await expect(store.findRequest(ids[0]!)).rejects.toMatchObject({ code: 'JH_ERR_STORE_CLOSED' });
    await expect(store.recordDeliveries([delivery(ids[0]!, '{}')])).rejects.toMatchObject({
      code: 'JH_ERR_STORE_CLOSED',
    });
  });
});
