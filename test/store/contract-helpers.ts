import { insightsVersionMs, parseNotification, topicTakes } from '../../src/ringcentral/notification.js';
import { createHash } from 'node:crypto';
import { newRequestId } from '../../src/callback/request-id.js';
import type { DeliveryRules, Store } from '../../src/store/store.js';
import type { EnvelopeParseResult, IncomingDelivery, RequestRecord, SpooledBody } from '../../src/types.js';

/** Fixtures of the store contract suite (contract.ts): envelopes, receipts, and requests in given states. */
export const STT = '/ai/audio/v1/async/speech-to-text';
export const PUNCTUATE = '/ai/text/v1/async/punctuate';
export const iso = (ms: number): string => new Date(ms).toISOString();

/** An envelope as the AI API sends it; `extra` pads or varies the bytes. */
export function envelope(jobId: string | null, status: string, extra: Record<string, unknown> = {}): Buffer {
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
export function recordingParser(): {
  parse: (body: Buffer) => EnvelopeParseResult;
  parsed: string[];
  rules: DeliveryRules;
} {
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
  const rules: DeliveryRules = {
    // Subscription bodies take the real notification rules: the contract checks the store's side of them.
    parse: (body, kind) => (kind === 'subscription' ? parseNotification(body) : parse(body)),
    settlementOf: (e) => (e.status === 'Success' ? 'succeeded' : e.status === 'Fail' ? 'failed' : null),
    topicTakes,
    insightsVersionMs,
  };
  return { parse, parsed, rules };
}

export function receipt(
  requestId: string,
  body: Buffer,
  receivedAtMs = Date.now(),
  more: Partial<IncomingDelivery> = {},
) {
  return {
    requestId,
    source: 'webhook',
    body,
    rawHeaders: ['Content-Type', 'application/json'],
    receivedAtMs,
    ...more,
  } satisfies IncomingDelivery;
}

export async function mint(store: Store, createdAtMs = Date.now(), more: { api?: string } = {}): Promise<string> {
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
export async function submitted(store: Store, jobId: string, createdAtMs = Date.now()): Promise<string> {
  const requestId = await mint(store, createdAtMs);
  await store.updateSubmission(requestId, { state: 'accepted', jobId });
  return requestId;
}

export async function settle(
  store: Store,
  requestId: string,
  status: 'Success' | 'Fail',
  jobId: string,
): Promise<number> {
  const [d] = await store.recordDeliveries([receipt(requestId, envelope(jobId, status))]);
  await store.indexDeliveries(recordingParser().rules);
  return d!.deliveryId;
}

export async function spool(
  store: Store,
  chunks: Buffer[],
): Promise<{ body: SpooledBody; sha: Buffer; bytes: Buffer }> {
  const sink = await store.openBodySink();
  for (const chunk of chunks) await sink.write(chunk);
  const bytes = Buffer.concat(chunks);
  return { body: await sink.finish(), sha: createHash('sha256').update(bytes).digest(), bytes };
}

export const ids = (records: RequestRecord[]): string[] => records.map((r) => r.requestId);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
