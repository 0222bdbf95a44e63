import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { listenOn } from '../http-listen.js';
import type { Store } from '../store/store.js';
import type { RequestKind, RequestState } from '../types.js';
import { toDeliveryView, type RequestDetailView } from './request-view.js';

export interface LocalApiOptions {
  store: Store;
  /** Mints a request (write-ahead); injected so this folder does not depend on the client. */
  mint: (input: { kind?: RequestKind; api?: string }) => Promise<{ requestId: string; callbackUrl: string }>;
  logger?: Logger;
}

export interface LocalApi {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

const STATES: readonly RequestState[] = ['pending', 'succeeded', 'failed', 'expired'];
const MAX_MINT_BODY_BYTES = 64 * 1024;

/**
 * The local JSON API (loopback only by default): what the inspector page and scripts read.
 * GET /api/requests, GET /api/requests/:id (request ID or jobId), POST /api/mint, GET /healthz.
 */
export function createLocalApi(options: LocalApiOptions): LocalApi {
  const { store, logger } = options;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/api/requests') {
      const state = url.searchParams.get('state');
      if (state !== null && !STATES.includes(state as RequestState)) {
        return error(res, 400, `state must be one of ${STATES.join(', ')}`);
      }
      const limit = Number(url.searchParams.get('limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return error(res, 400, 'limit must be 1..10000');
      const requests = await store.listRequests({
        state: (state as RequestState | null) ?? undefined,
        api: url.searchParams.get('api') ?? undefined,
        limit,
      });
      return json(res, 200, { requests });
    }
    const detail = /^\/api\/requests\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && detail) {
      const request = await store.findRequest(decodeURIComponent(detail[1]!));
      if (!request) return error(res, 404, 'no request with that request ID or jobId');
      const deliveries = (await store.listDeliveries(request.requestId)).map(toDeliveryView);
      const handlerRuns = await store.listHandlerRuns(request.requestId);
      return json(res, 200, { request, deliveries, handlerRuns } satisfies RequestDetailView);
    }
    if (req.method === 'POST' && path === '/api/mint') {
      const input = await readJson(req);
      if (input === undefined) return error(res, 400, 'body must be a JSON object (or empty)');
      const kind = input.kind ?? 'job';
      if (kind !== 'job' && kind !== 'subscription') return error(res, 400, 'kind must be "job" or "subscription"');
      if (input.api !== undefined && typeof input.api !== 'string') return error(res, 400, 'api must be a string');
      return json(res, 201, await options.mint({ kind, api: input.api }));
    }
    return error(res, 404, 'not found');
  }

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      logger?.error({ err }, 'local API request failed');
      if (!res.headersSent) error(res, 503, (err as Error).message);
    });
  });

  return {
    server,
    listen: (port, host) => listenOn(server, port, host),
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function error(res: ServerResponse, status: number, message: string): void {
  json(res, status, { error: { message } });
}

/** Reads a small JSON object body; `{}` for an empty body, `undefined` when it is not a JSON object. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_MINT_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
