import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHarness } from '../helpers/emulator-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

let h: EmulatorHarness;
let sink: WebhookSink;
afterEach(async () => {
  await h.close();
  await sink.close();
});

const PUNCTUATE = '/ai/text/v1/async/punctuate';
const body = { texts: ['hello how are you'] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function submit(query = '', headers: Record<string, string> = {}): Promise<string> {
  const response = await h.submit(PUNCTUATE, body, `?webhook=${encodeURIComponent(`${sink.url}/cb`)}${query}`, headers);
  expect(response.status).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

describe('emulator faults', () => {
  it('drops a result: nothing arrives, the status endpoint still has it', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const dropped = await submit('&_emulator=drop');
    const kept = await submit();
    await sink.waitFor(1);
    await sleep(200);
    expect(sink.received.map((r) => (JSON.parse(r.body) as { jobId: string }).jobId)).toEqual([kept]);
    expect(await (await h.status(dropped)).json()).toMatchObject({
      jobId: dropped,
      status: 'Success',
      response: { texts: ['Hello how are you.'] },
    });
  });

  it('duplicates a result: the same envelope arrives twice', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const jobId = await submit('', { 'X-Emulator-Faults': 'duplicate=2' });
    await sink.waitFor(2);
    await sleep(100);
    expect(sink.received).toHaveLength(2);
    expect(sink.received[0]!.body).toBe(sink.received[1]!.body);
    expect(JSON.parse(sink.received[0]!.body)).toMatchObject({ jobId });
  });

  it('fails a job with the documented failure shape', async () => {
    h = await startEmulator({ failRate: 1 });
    sink = await startWebhookSink();
    await submit();
    await sink.waitFor(1);
    expect(JSON.parse(sink.received[0]!.body)).toMatchObject({
      status: 'Fail',
      response: { errors: [{ errorCode: expect.stringMatching(/^CAI-1\d\d$/), message: expect.any(String) }] },
    });
  });

  it('answers 429 with Retry-After and X-Rate-Limit-* headers past the limit, shared by submits and status reads', async () => {
    h = await startEmulator({ rateLimit: { limit: 3, windowMs: 60_000, penaltyMs: 60_000 } });
    sink = await startWebhookSink();
    const jobId = await submit();
    const second = await h.status(jobId);
    expect(second.headers.get('x-rate-limit-group')).toBe('heavy');
    expect(second.headers.get('x-rate-limit-limit')).toBe('3');
    expect(second.headers.get('x-rate-limit-remaining')).toBe('1');
    expect(second.headers.get('x-rate-limit-window')).toBe('60');
    await submit();
    const limited = await h.submit(PUNCTUATE, body, `?webhook=${sink.url}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toMatchObject({ errors: [{ errorCode: 'CMN-301' }] });
    expect((await h.status(jobId)).status).toBe(429);
  });

  it('answers 503 at submit for the configured share', async () => {
    h = await startEmulator({ unavailableRate: 1 });
    sink = await startWebhookSink();
    const response = await h.submit(PUNCTUATE, body, `?webhook=${sink.url}`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('redelivers on anything but 200 with backoff, up to the retry count', async () => {
    h = await startEmulator({ redelivery: { retries: 3, backoffMs: 40, attemptTimeoutMs: 1000 } });
    sink = await startWebhookSink();
    sink.answer = (i) => (i < 2 ? 500 : 200);
    const jobId = await submit();
    await sink.waitFor(3);
    await sleep(300);
    expect(sink.received).toHaveLength(3);
    const job = (await (await fetch(`${h.base}/_emulator/jobs/${jobId}`)).json()) as {
      attempts: { status: number; at: string }[];
    };
    expect(job.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    // Exponential backoff: 40 ms, then 80 ms.
    const times = job.attempts.map((a) => Date.parse(a.at));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(35);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(75);

    sink.answer = 503;
    const failing = await submit();
    await sleep(800);
    const attempts = ((await (await fetch(`${h.base}/_emulator/jobs/${failing}`)).json()) as { attempts: unknown[] })
      .attempts;
    expect(attempts).toHaveLength(4); // the first attempt and 3 redeliveries
  });

  it('counts an attempt with no answer within the timeout as failed', async () => {
    h = await startEmulator({ redelivery: { retries: 1, backoffMs: 20, attemptTimeoutMs: 100 } });
    sink = await startWebhookSink();
    sink.server.removeAllListeners('request');
    sink.server.on('request', () => undefined); // never answers
    const jobId = await submit();
    await sleep(500);
    const job = (await (await fetch(`${h.base}/_emulator/jobs/${jobId}`)).json()) as { attempts: { error?: string }[] };
    expect(job.attempts.map((a) => a.error)).toEqual(['timeout', 'timeout']);
  });

  it('reorders deliveries across jobs within the window', async () => {
    h = await startEmulator({ reorderWindowMs: 300, latency: { minMs: 1, maxMs: 1 }, seed: 'reorder' });
    sink = await startWebhookSink();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(await submit());
      await sleep(5);
    }
    await sink.waitFor(12);
    const order = sink.received.map((r) => (JSON.parse(r.body) as { jobId: string }).jobId);
    expect([...order].sort()).toEqual([...ids].sort());
    expect(order).not.toEqual(ids);
  });

  it('delays a delivery and can force completion and redelivery through the control API', async () => {
    h = await startEmulator({ latency: { minMs: 60_000, maxMs: 60_000 } });
    sink = await startWebhookSink();
    const jobId = await submit('&_emulator=delay=150ms');
    const forced = await fetch(`${h.base}/_emulator/jobs/${jobId}/complete`, { method: 'POST' });
    expect(forced.status).toBe(200);
    const started = Date.now();
    await sink.waitFor(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    expect((await fetch(`${h.base}/_emulator/jobs/${jobId}/redeliver`, { method: 'POST' })).status).toBe(202);
    await sink.waitFor(2);
    const list = (await (await fetch(`${h.base}/_emulator/jobs`)).json()) as {
      jobs: { jobId: string; status: string }[];
    };
    expect(list.jobs).toEqual([expect.objectContaining({ jobId, status: 'Success' })]);
    expect((await fetch(`${h.base}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    expect(((await (await fetch(`${h.base}/_emulator/jobs`)).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('completes and delivers 1 000 jobs submitted concurrently', async () => {
    h = await startEmulator({ latency: { minMs: 10, maxMs: 200 } });
    sink = await startWebhookSink();
    const ids = await Promise.all(Array.from({ length: 1000 }, () => submit()));
    expect(new Set(ids).size).toBe(1000);
    await sink.waitFor(1000, 30_000);
    const delivered = new Set(sink.received.map((r) => (JSON.parse(r.body) as { jobId: string }).jobId));
    expect(delivered).toEqual(new Set(ids));
  });
});

describe('emulator per-job overrides and expiry', () => {
  it('answers 503 to one submit flagged unavailable, and 404 once a job has expired', async () => {
    h = await startEmulator({ expiryMs: 150 });
    sink = await startWebhookSink();
    const refused = await h.submit(PUNCTUATE, body, `?webhook=${sink.url}&_emulator=unavailable`);
    expect(refused.status).toBe(503);
    const jobId = await submit();
    expect((await h.status(jobId)).status).toBe(200);
    await sleep(200);
    expect((await h.status(jobId)).status).toBe(404);
  });
});
