import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { ResultHandler } from './handler-runner.js';

/**
 * `--forward-to`: a result handler that POSTs the exact stored bytes of each request's deciding delivery,
 * with its content type, to the user's own server, signed with Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`) so that server can verify them with the same
 * library. Anything but a 2xx answer fails the attempt (retried, then dead-lettered, like any handler).
 * `webhook-id` is stable per request, so the receiving side can deduplicate retries.
 */
export interface ForwardOptions {
  url: string;
  /** `whsec_…` secret shared with the receiving server. */
  secret: string;
  /** @defaultValue 10000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function generateForwardSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function createForwardHandler(options: ForwardOptions): ResultHandler {
  const signer = new Webhook(options.secret);
  return async (input) => {
    const id = `jh_${input.requestId}`;
    const timestamp = new Date();
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      body: input.body,
      headers: {
        'content-type': input.contentType ?? 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signer.sign(id, timestamp, input.body.toString('utf8')),
        'x-jobhook-request-id': input.requestId,
        ...(input.jobId ? { 'x-jobhook-job-id': input.jobId } : {}),
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`forward target answered ${response.status}`);
    }
  };
}
