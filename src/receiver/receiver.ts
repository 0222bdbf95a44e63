import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { listenOn } from '../http-listen.js';
import { acceptedRequestId, matchAcceptedPath } from '../callback/accepted-path.js';
import { verifyMintedPath, type Keyring } from '../callback/callback-url.js';
import { isJobhookError } from '../errors.js';
import type { IngestStore } from '../store/store.js';
import type { IncomingDelivery, RecordedDelivery } from '../types.js';
import { createEnvelopeIndexer, type EnvelopeIndexer } from './envelope-indexer.js';
import { createGroupCommit } from './group-commit.js';
import { readBody } from './read-body.js';
import { createRefusalLog, type RefusalLog, type RefusalReason } from './refusals.js';
import { answerHandshake, checkVerificationToken } from './subscription-url.js';

export interface ReceiverOptions {
  /** The receiver only ingests: it never reads requests or claims work. */
  store: IngestStore;
  keyring: Keyring;
  /** Normalised prefix of callback paths, e.g. `/webhooks`. */
  pathPrefix: string;
  /**
   * Fixed paths (normalised, see `normalizeAcceptPaths`) also taken, with everything below them: the guide's
   * `/webhook`. Deliveries there are stored like any other but kept as unverified. @defaultValue []
   */
  acceptPaths?: readonly string[];
  /** Where refusals are counted and logged; one is made on `logger` when omitted. */
  refusals?: RefusalLog;
  /** @defaultValue 64 MiB */
  maxBodyBytes?: number;
  /**
   * Bodies larger than this are written to the store's body sink while they arrive instead of being held
   * in memory and committed through the database on the event loop. @defaultValue 256 KiB
   */
  spoolAboveBytes?: number;
  /** Time allowed to receive a request's headers. @defaultValue 10000 */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request. @defaultValue 120000 */
  requestTimeoutMs?: number;
  /** Idle time before a keep-alive connection is closed. @defaultValue 5000 */
  keepAliveTimeoutMs?: number;
  /** Parser of stored bodies; one is made on `store` when omitted. */
  indexer?: EnvelopeIndexer;
  logger?: Logger;
}

export interface Receiver {
  readonly server: Server;
  /** What was refused, and why (the inspector shows it). */
  readonly refusals: RefusalLog;
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting, lets in-flight deliveries commit and answer, then drains the parser. Leaves the store
   * open. Bodies still arriving after `graceMs` (a sender trickling its bytes) are cut off unanswered —
   * the sender redelivers — while deliveries already committing are always awaited and answered.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SPOOL_ABOVE_BYTES = 256 * 1024;

/**
 * The public webhook listener. For `POST <prefix>/<requestId>/<tag>` it checks the tag (no storage
 * access for a URL it did not mint: 404), reads the body within the limit (413 beyond), commits it with
 * the other deliveries of the same moment, and only then answers exactly 200, since the API redelivers
 * on anything else. A store that cannot commit gets 503, never a 200. Only `GET /healthz` is also served.
 * On a URL minted for a subscription, a notification must also carry its `Verification-Token` (403
 * otherwise, nothing read or stored), and no answer carries a body or a `Date` (RingCentral's 1 KB limit).
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  const { store, keyring, pathPrefix, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const indexer = options.indexer ?? createEnvelopeIndexer(store, { logger });
  const commit = createGroupCommit<IncomingDelivery, RecordedDelivery>(async (batch) => {
    try {
      return await store.recordDeliveries(batch);
    } catch (error) {
      logger?.error(
        { err: error, deliveries: batch.length, requestIds: batch.slice(0, 20).map((d) => d.requestId) },
        'store could not commit deliveries; answering 503',
      );
      throw error;
    }
  });
  const spoolAboveBytes = options.spoolAboveBytes ?? DEFAULT_SPOOL_ABOVE_BYTES;
  const acceptPaths = options.acceptPaths ?? [];
  const refusals = options.refusals ?? createRefusalLog({ logger });
  /** A path shaped like a minted callback URL whose tag did not verify (another secret, another database). */
  const callbackShape = new RegExp(
    `^${pathPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f-]{36}/[A-Za-z0-9_-]{22}$`,
  );
  const refuse = (req: IncomingMessage, res: ServerResponse, reason: RefusalReason, status: 403 | 404 | 413): void => {
    refusals.record(req.method ?? '?', req.url ?? '/', reason, status);
    reject(req, res, status);
  };
  /** Requests being handled, and whether their body is still arriving (those a bounded close may cut off). */
  const reading = new Set<IncomingMessage>();
  /** Requests a bounded close cut off (not the sender's doing), and partial spool files being removed. */
  const cutOff = new WeakSet<IncomingMessage>();
  const discards = new Set<Promise<void>>();
  const trackDiscard = (discarded: Promise<void>): void => {
    discards.add(discarded);
    void discarded.finally(() => discards.delete(discarded));
  };
  let inFlight = 0;
  let idle: (() => void)[] = [];

  /** Set by close(): keep-alive connections may still bring requests, which are refused and closed. */
  let closing = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (closing) {
      // Node keeps serving keep-alive sockets after server.close(): send this sender elsewhere (or later).
      return send(res, 503, { 'retry-after': '5', connection: 'close' });
    }
    if (req.method === 'GET' && (url === '/healthz' || url.startsWith('/healthz?'))) {
      // A load balancer should stop sending here when this store cannot take a write until restarted.
      const health = store.health();
      return health.ok
        ? send(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}')
        : send(
            res,
            503,
            { 'content-type': 'application/json' },
            JSON.stringify({ status: 'unavailable', problem: health.problem }),
          );
    }
    const minted = req.method === 'POST' ? verifyMintedPath(keyring, pathPrefix, url) : null;
    const acceptedPath = minted === null ? matchAcceptedPath(acceptPaths, url) : null;
    const requestId = minted?.requestId ?? (acceptedPath === null ? null : acceptedRequestId(acceptedPath));
    if (requestId === null || (acceptedPath !== null && req.method !== 'POST')) {
      const pathOnly = url.split('?')[0]!;
      const reason: RefusalReason =
        req.method !== 'POST' && (acceptedPath !== null || pathOnly.startsWith(`${pathPrefix}/`))
          ? 'not-post'
          : callbackShape.test(pathOnly)
            ? 'bad-tag'
            : 'unknown-path';
      return refuse(req, res, reason, 404);
    }
    if (minted?.kind === 'subscription') {
      res.sendDate = false;
      const refusal = checkVerificationToken(keyring, requestId, req.headers);
      if (refusal !== null) {
        const validationToken = req.headers['validation-token'];
        if (typeof validationToken !== 'string') return refuse(req, res, refusal, 403);
        // Perhaps the creation handshake, which carries no token when none was set: only with an empty body.
        reading.add(req);
        const empty = await readBody(req, { maxBytes: 0 });
        reading.delete(req);
        if (empty.kind === 'aborted') return refusals.record('POST', url, 'aborted', null);
        if (empty.kind !== 'ok') return refuse(req, res, refusal, 403);
        logger?.info({ requestId }, 'answered subscription validation handshake');
        return answerHandshake(res, validationToken);
      }
    }

    const declared = req.headers['content-length'];
    reading.add(req);
    const read =
      declared !== undefined && Number(declared) > maxBodyBytes
        ? ({ kind: 'too-large' } as const)
        : await readBody(req, {
            maxBytes: maxBodyBytes,
            spoolAboveBytes,
            openSink: () => store.openBodySink(),
            onDiscard: trackDiscard,
          });
    reading.delete(req);
    if (read.kind === 'aborted') {
      if (cutOff.has(req)) logger?.warn({ requestId }, 'delivery cut off by shutdown before its body was complete');
      else logger?.warn({ requestId }, 'delivery aborted by the sender before its body was complete');
      refusals.record('POST', url, 'aborted', null);
      return;
    }
    if (read.kind === 'too-large') {
      // A result lost to the limit deserves attention: the sender will retry and be refused again.
      logger?.warn(
        { requestId, declaredBytes: declared ?? null, maxBodyBytes },
        'delivery over --max-body refused with 413',
      );
      return refuse(req, res, 'too-large', 413);
    }
    if (read.kind === 'failed') {
      refusals.record('POST', url, 'store-unavailable', 503);
      logger?.error({ err: read.error, requestId }, 'store could not spool a large delivery; answering 503');
      return send(res, 503, { 'retry-after': '5', connection: 'close' });
    }

    const validationToken = req.headers['validation-token'];
    if (read.bytes === 0 && typeof validationToken === 'string') {
      // Push-notification subscription handshake: echo the token, nothing else.
      logger?.info({ requestId }, 'answered subscription validation handshake');
      return answerHandshake(res, validationToken);
    }

    let recorded: RecordedDelivery;
    try {
      recorded = await commit.add({
        requestId,
        source: 'webhook',
        body: read.body,
        bodySha256: read.sha256,
        ...(acceptedPath === null ? {} : { acceptedPath }),
        rawHeaders: req.rawHeaders,
        receivedAtMs: Date.now(),
      });
    } catch (error) {
      // Not recorded, so nothing refers to its spool file: remove it now (the sender redelivers).
      if (!Buffer.isBuffer(read.body)) await store.discardSpooled(read.body).catch(() => undefined);
      // 503 says "the store is away, come back": only for an outage. A database that refuses the data
      // itself (a conflict) is not going to take it on retry either: 500, and the log says why.
      if (isJobhookError(error, 'JH_ERR_STORE_CONFLICT')) {
        refusals.record('POST', url, 'store-refused', 500);
        return send(res, 500, {});
      }
      refusals.record('POST', url, 'store-unavailable', 503);
      return send(res, 503, { 'retry-after': '5' });
    }
    send(res, 200, {});
    logger?.debug({ requestId, deliveryId: recorded.deliveryId }, 'delivery stored');
    indexer.notify();
  }

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 120_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // Node checks the two timeouts above only this often (default 30 s): check every second.
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      inFlight++;
      handle(req, res)
        .catch((error: unknown) => {
          logger?.error({ err: error }, 'receiver failed to handle a request');
          if (!res.headersSent) send(res, 500, {});
        })
        .finally(() => {
          if (--inFlight === 0) for (const done of idle.splice(0)) done();
        });
    },
  );

  return {
    server,
    refusals,
    listen: (port, host) => listenOn(server, port, host),
    async close({ graceMs = Infinity } = {}) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        const allAnswered = new Promise<void>((resolve) => idle.push(resolve));
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'late'>((resolve) => {
          if (Number.isFinite(graceMs)) timer = setTimeout(() => resolve('late'), graceMs);
        });
        if ((await Promise.race([allAnswered, graceOver])) === 'late') {
          logger?.warn(
            { cutOff: reading.size },
            'shutdown grace over: cutting off deliveries whose bodies are still arriving (they are redelivered)',
          );
          for (const req of reading) {
            cutOff.add(req);
            req.socket.destroy();
          }
          await allAnswered;
        }
        clearTimeout(timer);
      }
      await commit.drain();
      // Partial spool files of cut-off bodies go now, not at the orphan sweep an hour after the next start.
      await Promise.all(discards);
      // Connections that stayed open after their last answer would hold close() forever.
      server.closeAllConnections();
      await closed;
      await indexer.drain();
      // An indexer made here is ours to end (its parser worker); one passed in belongs to the caller.
      if (!options.indexer) await indexer.close();
      if (!options.refusals) refusals.stop();
      idle = [];
    },
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Answers without reading the body. The connection is closed afterwards unless the request carried
 * no body, so an unread (perhaps huge) body is never drained or buffered.
 */
function reject(req: IncomingMessage, res: ServerResponse, status: 403 | 404 | 413): void {
  const length = req.headers['content-length'];
  const bodyless = req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
  if (bodyless) return send(res, status, {});
  send(res, status, { connection: 'close' });
  res.once('finish', () => req.socket.destroySoon());
}
