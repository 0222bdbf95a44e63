import { Worker } from 'node:worker_threads';
import { parseDelivery } from '../ringcentral/delivery-rules.js';
import { ENVELOPE_FIELDS } from '../ringcentral/envelope.js';
import { NOTIFICATION_BODY_FIELDS, NOTIFICATION_FIELDS } from '../ringcentral/notification.js';
import type { EnvelopeParseResult, RequestKind } from '../types.js';

/**
 * Parses large stored bodies in a worker thread, so a 28 MiB JSON.parse never holds the event loop (and the
 * acknowledgements queued on it). The worker reads the file and parses it, and sends back only the
 * fields the parsers read (a few short strings: the result envelope's, a notification's, and the keys of
 * ACE insights in its `body`); the domain rules stay in `parseDelivery`, applied to that projection here by
 * the kind of the body's request. One worker, one body at a time: on two cores the
 * other core serves the receiver.
 *
 * States: idle (no worker, or an unref'd one) → busy (a ref'd worker with queued paths) → idle. A worker
 * that dies rejects the bodies it held (they stay unindexed; the next pass retries them with a new worker);
 * a body on which a worker died twice is reported unparseable rather than retried for ever.
 */
export interface BodyParser {
  parse(path: string, kind?: RequestKind): Promise<EnvelopeParseResult>;
  close(): Promise<void>;
}

type Reply = { id: number; projection: string } | { id: number; error: string } | { id: number; readError: string };

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync, readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
const FIELDS = workerData.fields;
const BODY_FIELDS = workerData.bodyFields;
// Lowest CPU priority for this thread alone (Linux: a thread id is a valid setpriority target), so parsing
// never competes with the event loop that acknowledges deliveries. Elsewhere the call fails and is ignored.
try { setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19); } catch {}
parentPort.on('message', ({ id, path }) => {
  let text;
  try { text = readFileSync(path, 'utf8'); } catch (e) { return parentPort.postMessage({ id, readError: e.message }); }
  // One leading UTF-8 BOM is skipped, as parseEnvelope does: JSON.parse refuses U+FEFF.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value;
  try { value = JSON.parse(text); } catch (e) { return parentPort.postMessage({ id, error: 'not JSON: ' + e.message }); }
  text = undefined;
  let projection;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    projection = Array.isArray(value) ? '[]' : JSON.stringify(typeof value === 'string' ? '' : value);
  } else {
    const pick = (from, fields) => {
      const out = {};
      for (const f of fields) if (Object.prototype.hasOwnProperty.call(from, f)) {
        const v = from[f];
        out[f] = v !== null && typeof v === 'object' ? {} : v;
      }
      return out;
    };
    const top = pick(value, FIELDS);
    const body = value.body;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) top.body = pick(body, BODY_FIELDS);
    projection = JSON.stringify(top);
  }
  parentPort.postMessage({ id, projection });
});
`;

export function createBodyParser(): BodyParser {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<
    number,
    { path: string; kind: RequestKind; resolve: (r: EnvelopeParseResult) => void; reject: (e: Error) => void }
  >();
  const crashes = new Map<string, number>();

  const spawn = (): Worker => {
    const fields = [...new Set([...ENVELOPE_FIELDS, ...NOTIFICATION_FIELDS])];
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { fields, bodyFields: NOTIFICATION_BODY_FIELDS } });
    w.on('message', (reply: Reply) => {
      const done = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (waiting.size === 0) w.unref();
      if (!done) return;
      crashes.delete(done.path);
      if ('projection' in reply) done.resolve(parseDelivery(Buffer.from(reply.projection), done.kind));
      else if ('error' in reply) done.resolve({ ok: false, error: reply.error });
      else done.resolve({ ok: false, error: `stored body unreadable: ${reply.readError}` });
    });
    const failAll = (error: Error): void => {
      if (worker === w) worker = null;
      for (const [id, done] of waiting) {
        waiting.delete(id);
        const count = (crashes.get(done.path) ?? 0) + 1;
        crashes.set(done.path, count);
        if (count >= 2) done.resolve({ ok: false, error: `the parser worker died on this body: ${error.message}` });
        else done.reject(new Error(`parser worker failed: ${error.message}`, { cause: error }));
      }
    };
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('exited')));
    return w;
  };

  return {
    parse(path, kind = 'job') {
      worker ??= spawn();
      worker.ref();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { path, kind, resolve, reject });
        worker!.postMessage({ id, path });
      });
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
