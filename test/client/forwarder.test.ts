import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardHandler, generateForwardSecret } from '../../src/client/forwarder.js';
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
