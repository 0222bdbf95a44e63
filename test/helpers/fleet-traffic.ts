import { createHash } from 'node:crypto';
import { post } from './receiver-harness.js';

/** A terminal punctuate envelope with a jobId of its own: each body distinct, each settles its request. */
export function punctuateEnvelope(jobId: string, text = 'hello how are you'): string {
  return JSON.stringify({
    jobId,
    api: '/ai/text/v1/async/punctuate',
    creationTime: '2026-11-20T10:00:00.000Z',
    completionTime: '2026-11-20T10:00:01.500Z',
    expirationTime: '2026-11-27T10:00:00.000Z',
    status: 'Success',
    response: { texts: [`${text[0]!.toUpperCase()}${text.slice(1)}?`, `(${jobId})`] },
  });
}

export const sha256Hex = (body: string): string => createHash('sha256').update(body).digest('hex');

/** One delivery to make: where to send it first, and where to send it when that fails. */
export interface PlannedDelivery {
  requestId: string;
  body: string;
  /** Receiver URLs tried in order until one answers 200 (the sender's redelivery). */
  urls: string[];
  /** Also sent, once, to this URL after the first 200 (a duplicate that arrives at the other instance). */
  duplicateTo?: string;
}

export interface Ack {
  requestId: string;
  sha256: string;
  url: string;
  at: number;
}

export interface Burst {
  /** Every delivery answered 200, with where. */
  acked: Ack[];
  /** Answers other than 200 (or connection failures, as status 0), by URL origin. */
  refused: { url: string; status: number; at: number }[];
  /** Deliveries started so far. */
  started: () => number;
  done: Promise<void>;
}

/**
 * Sends `plan` from `concurrency` loops, each delivery to its first URL and, on anything but 200 (a dead
 * instance refuses connections), to the next, as RingCentral redelivers. `pauseMs` between a loop's
 * deliveries keeps the burst going long enough for something to happen in the middle of it.
 */
export function sendBurst(plan: PlannedDelivery[], concurrency: number, pauseMs = 0): Burst {
  const acked: Ack[] = [];
  const refused: Burst['refused'] = [];
  let next = 0;
  const attempt = async (url: string, body: string): Promise<number> => {
    try {
      return await post(url, body);
    } catch {
      return 0;
    }
  };
  const loops = Array.from({ length: concurrency }, async () => {
    while (next < plan.length) {
      const item = plan[next++]!;
      const sha256 = sha256Hex(item.body);
      for (const url of item.urls) {
        const status = await attempt(url, item.body);
        if (status === 200) {
          acked.push({ requestId: item.requestId, sha256, url, at: Date.now() });
          if (item.duplicateTo && (await attempt(item.duplicateTo, item.body)) === 200) {
            acked.push({ requestId: item.requestId, sha256, url: item.duplicateTo, at: Date.now() });
          }
          break;
        }
        refused.push({ url: new URL(url).origin, status, at: Date.now() });
      }
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  return { acked, refused, started: () => next, done: Promise.all(loops).then(() => undefined) };
}

/** Delivered 200 count per body hash. */
export function ackCounts(acked: Ack[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of acked) counts.set(a.sha256, (counts.get(a.sha256) ?? 0) + 1);
  return counts;
}
