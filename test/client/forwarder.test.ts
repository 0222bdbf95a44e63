import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardHandler, generateForwardSecret } from '../../src/client/forwarder.js';
import { listenOn } from '../../src/http-listen.js';
import { createLocalApi } from '../../src/inspector/local-api.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

let loop: Loop;
let sink: WebhookSink;
afterEach(async () => {
  await loop.close();
  await sink.close();
});

describe('--forward-to', () => {
  it('forwards the exact stored bytes, signed with Standard Webhooks headers, retrying until a 2xx', async () => {
    loop = await startLoop(tempDbPath(), {}, { handlers: { backoffMs: 20, pollMs: 20 } });
    sink = await startWebhookSink();
    sink.answer = (i) => (i === 0 ? 500 : 204);
    const secret = generateForwardSecret();
    await loop.jobhook.on('*', createForwardHandler({ url: `${sink.url}/mine`, secret }), { name: 'forward' });

    const job = await loop.jobhook.punctuate({ texts: ['forward me'] });
    await job.result();
    await sink.waitFor(2);
    const [stored] = await loop.harness.store.listDeliveries(job.requestId);
    const forwarded = sink.received[1]!;
    expect(forwarded.path).toBe('/mine');
    expect(forwarded.body).toBe(stored!.body.toString('utf8'));
    expect(forwarded.headers['content-type']).toBe('application/json');
    expect(forwarded.headers['webhook-id']).toBe(`jh_${job.requestId}`);
    expect(forwarded.headers['webhook-id']).toBe(sink.received[0]!.headers['webhook-id']); // stable across retries
    const verified = new Webhook(secret).verify(forwarded.body, forwarded.headers as Record<string, string>);
    expect(verified).toMatchObject({ jobId: job.jobId, status: 'Success' });
    expect(() =>
      new Webhook(generateForwardSecret()).verify(forwarded.body, forwarded.headers as Record<string, string>),
    ).toThrow();
    const runs = await waitFor(async () => {
      const list = await loop.harness.store.listHandlerRuns(job.requestId);
      return list[0]?.state === 'succeeded' && list;
    });
    expect(runs[0]).toMatchObject({ handler: 'forward', attempts: 2 });

    // The inspector's replay sends the stored result through the forward target again.
    const api = createLocalApi({ store: loop.harness.store, mint: loop.harness.mint });
    const base = `http://127.0.0.1:${(await api.listen(0, '127.0.0.1')).port}`;
    try {
      const replay = await fetch(`${base}/api/requests/${job.jobId}/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(await replay.json()).toEqual({ requestId: job.requestId, runs: 1 });
      await sink.waitFor(3);
      expect(sink.received[2]!.body).toBe(forwarded.body);
    } finally {
      await api.close();
    }
  });
});

describe('a forward target that is down', () => {
  it('records why in the run (the cause, not only "fetch failed")', async () => {
    loop = await startLoop(tempDbPath(), {}, { handlers: { backoffMs: 60_000, pollMs: 20 } });
    sink = await startWebhookSink();
    const down = createServer();
    const { port } = await listenOn(down, 0, '127.0.0.1');
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const handler = createForwardHandler({ url: `http://127.0.0.1:${port}/in`, secret: generateForwardSecret() });
    await loop.jobhook.on('*', handler, { name: 'forward' });
    const job = await loop.jobhook.punctuate({ texts: ['nobody listens'] });
    await job.result();
    const [run] = await waitFor(async () => {
      const list = await loop.harness.store.listHandlerRuns(job.requestId);
      return list[0]?.lastError ? list : null;
    });
    expect(run!.lastError).toMatch(/ECONNREFUSED/);
  });
});

/** A forward target that records the exact bytes it gets; requests for which `hang` says so are never answered. */
async function startTarget(hang: (index: number) => boolean) {
  const received: { atMs: number; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = received.push({ atMs: Date.now(), headers: req.headers, body: Buffer.concat(chunks) }) - 1;
      if (!hang(index)) res.writeHead(204).end();
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}/in`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('--forward-to under a slow target, with bytes that are not UTF-8', () => {
  it('forwards the other results at once while the target hangs on one', async () => {
    loop = await startLoop(tempDbPath(), {}, { handlers: { backoffMs: 20, pollMs: 20 } });
    sink = await startWebhookSink(); // unused here; closed by afterEach
    const target = await startTarget((index) => index === 0);
    try {
      // The default 10 s forward timeout: before, every other forward queued behind the hanging one.
      await loop.jobhook.on('*', createForwardHandler({ url: target.url, secret: generateForwardSecret() }), {
        name: 'forward',
      });
      const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => loop.jobhook.punctuate({ texts: [`r${i}`] })));
      await Promise.all(jobs.map((job) => job.result()));
      const settledAt = Date.now();
      await waitFor(() => target.received.length >= jobs.length, 20_000);
      const slowest = Math.max(...target.received.slice(1).map((r) => r.atMs)) - settledAt;
      console.log(`forwards behind one hanging request: the others arrived within ${slowest} ms of settling`);
      expect(slowest).toBeLessThan(4000); // serially, they waited for the 10 s timeout
      expect(new Set(target.received.map((r) => r.headers['webhook-id'])).size).toBe(jobs.length);
    } finally {
      await target.close(); // fails the hanging attempt, so the runner stops at once
    }
  });

  it('signs the exact bytes: a spec verifier and the standardwebhooks package both accept non-UTF-8 bytes', async () => {
    loop = await startLoop(tempDbPath());
    sink = await startWebhookSink();
    const target = await startTarget(() => false);
    try {
      const secret = generateForwardSecret();
      // JSON (so the package's verify, which parses, returns it) with invalid UTF-8 inside a string.
      const body = Buffer.concat([
        Buffer.from('{"status":"Success","text":"'),
        Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      const forward = createForwardHandler({ url: target.url, secret });
      await forward({
        eventKey: 'settled:req-bytes',
        requestId: 'req-bytes',
        jobId: 'job-bytes',
        api: null,
        status: 'Success',
        response: {},
        envelope: {},
        body,
        contentType: 'application/json',
        attempt: 1,
        signal: new AbortController().signal,
      });
      const [got] = target.received;
      expect(got!.body.equals(body)).toBe(true);
      const headers = got!.headers as Record<string, string>;

      // What the spec defines, over the bytes received: HMAC-SHA256 of `${id}.${timestamp}.` + body.
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`)
        .update(got!.body)
        .digest('base64');
      const listed = headers['webhook-signature']!.split(' ').map((s) => s.replace(/^v1,/, ''));
      expect(listed).toContain(expected);

      expect(new Webhook(secret).verify(got!.body, headers)).toMatchObject({ status: 'Success' });
      expect(() => new Webhook(generateForwardSecret()).verify(got!.body, headers)).toThrow();
      const tampered = Buffer.from(got!.body);
      tampered[tampered.length - 3] = 0x41;
      expect(() => new Webhook(secret).verify(tampered, headers)).toThrow();
    } finally {
      await target.close();
    }
  });
});

describe('a forward target that answers a huge body', () => {
  it('is judged by its status without reading the body into memory', async () => {
    loop = await startLoop(tempDbPath(), {}, { handlers: { backoffMs: 20, pollMs: 20 } });
    sink = await startWebhookSink();
    let sentBytes = 0;
    let aborted = false;
    // Answers 200, then streams up to 400 MiB unless the client goes away first.
    const target = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        const pump = (): void => {
          while (sentBytes < 400 * 1024 * 1024) {
            sentBytes += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (aborted = !res.writableFinished));
        pump();
      });
    });
    const { port } = await listenOn(target, 0, '127.0.0.1');
    try {
      const handler = createForwardHandler({ url: `http://127.0.0.1:${port}/in`, secret: generateForwardSecret() });
      await loop.jobhook.on('*', handler, { name: 'forward' });
      const job = await loop.jobhook.punctuate({ texts: ['answer me a lot'] });
      await job.result();
      await waitFor(async () => (await loop.harness.store.listHandlerRuns(job.requestId))[0]?.state === 'succeeded');
      await waitFor(() => aborted);
      // Before the fix the whole 400 MiB answer was read; now the connection is dropped early.
      expect(sentBytes).toBeLessThan(100 * 1024 * 1024);
    } finally {
      target.closeAllConnections();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });
});
