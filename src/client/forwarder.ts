import { isUtf8 } from 'node:buffer';
import { createHmac, randomBytes } from 'node:crypto';
import { JobhookError } from '../errors.js';
import type { AnyHandlerInput, HandlerRunner } from '../handlers/handler-runner.js';
import { parseAceEvent } from '../ringcentral/ace.js';
import { eventMatchesFilter, RENEWAL_REMINDER_FILTER } from '../ringcentral/notification.js';

/**
 * `--forward-to`: a result handler that POSTs the exact stored bytes of each request's deciding delivery,
 * with its content type, to the user's own server, signed with Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`) so that server can verify them with the same
 * library. Anything but a 2xx answer fails the attempt (retried, then dead-lettered, like any handler).
 * `webhook-id` is stable per event (`jh_<requestId>` for a job's result, `jh_<uuid>` for a push notification,
 * `jh_<domain>:<sourceRecordId>:<version>` for an ACE insights version), so the receiving side can deduplicate retries.
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

/**
 * The `webhook-signature` value for `body`. The spec signs `${id}.${timestamp}.` followed by the body's
 * exact bytes (HMAC-SHA256, base64, `v1,` prefix), and verifiers that hash the bytes they received (Go,
 * Rust, hand-written ones) need exactly that. The `standardwebhooks` npm package (1.1.1) decodes a Buffer
 * as UTF-8 before hashing, so for a body that is not valid UTF-8 it computes over U+FFFD replacements and
 * would reject the exact-bytes signature; for such a body only, a second `v1` signature over what that
 * package computes is added. Verifiers accept a message when any listed signature matches (the spec's
 * list exists for key rotation), so both kinds of receiver verify, and a UTF-8 body gets one signature.
 */
export function signForward(key: Buffer, id: string, timestampSeconds: number, body: Buffer): string {
  const sign = (bytes: Buffer): string =>
    `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(bytes).digest('base64')}`;
  const exact = sign(body);
  return isUtf8(body) ? exact : `${exact} ${sign(Buffer.from(body.toString('utf8'), 'utf8'))}`;
}

function secretKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'the forward secret is empty');
  return key;
}

/** The Standard Webhooks message id of a run: one per event, the same on every retry. */
function messageIdOf(input: AnyHandlerInput): string {
  if ('uuid' in input) return `jh_${input.uuid}`;
  if ('sourceRecordId' in input) return `jh_${input.eventKey.slice('insights:'.length)}`;
  return `jh_${input.requestId}`;
}

/** Forwards job results, push events and insights versions alike (register it for each). */
export function createForwardHandler(options: ForwardOptions): (input: AnyHandlerInput) => Promise<void> {
  const key = secretKey(options.secret);
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Reads body, contentType and ids only: the lazily parsed envelope/response stay unparsed, so a
  // large result is passed on without a JSON.parse on the event loop.
  return async (input) => {
    const id = messageIdOf(input);
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      body: input.body,
      headers: {
        'content-type': input.contentType ?? 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': signForward(key, id, timestampSeconds, input.body),
        'x-jobhook-request-id': input.requestId,
        ...('jobId' in input && input.jobId ? { 'x-jobhook-job-id': input.jobId } : {}),
        ...('uuid' in input ? { 'x-jobhook-event': input.event } : {}),
        ...('sourceRecordId' in input ? { 'x-jobhook-insights': `${input.domain}/${input.sourceRecordId}` } : {}),
      },
      redirect: 'manual',
      // The runner's stop aborts a hanging target as well as the timeout does.
      signal: AbortSignal.any([input.signal, AbortSignal.timeout(timeoutMs)]),
    });
    // Only the status matters: the answer's body is never read into memory (a target answering 400 MiB
    // took serve to 1.4 GB), just cancelled so the connection is released.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`forward target answered ${response.status}`);
    }
  };
}

/**
 * Registers `--forward-to` on a runner: each job result (`forward`), each push notification except ACE
 * insights events and renewal reminders (`forward-events`), and each new version of an ACE insight record,
 * by webhook or read back (`forward-insights`). So an ACE record is forwarded once per version (an older one
 * arriving late is not), a backfilled record reaches the target like a webhook's, and the keeper's own
 * reminders stay jobhook's business.
 */
export async function registerForwarding(runner: HandlerRunner, options: ForwardOptions): Promise<void> {
  const forward = createForwardHandler(options);
  await runner.register('forward', null, forward);
  await runner.registerEvents('forward-events', '*', async (input) => {
    if (parseAceEvent(input.event.split('?', 1)[0]!) || eventMatchesFilter(RENEWAL_REMINDER_FILTER, input.event))
      return;
    await forward(input);
  });
  await runner.registerInsights('forward-insights', '*', forward);
}
