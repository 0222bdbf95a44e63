import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isDisplayState, DISPLAY_STATES } from '../store/display-state.js';
import { readOutcome } from '../store/outcome.js';
import { listenOn } from '../http-listen.js';
import type { Store } from '../store/store.js';
import type { RequestKind } from '../types.js';
import { exportResult, type ExportFormat } from './exports.js';
import { download, error, json, readJson } from './http-answers.js';
import { createLiveEvents } from './live-events.js';
import { routePush } from './push-routes.js';
import { toRefusalView, type InspectorRefusal } from './refusal-view.js';
import { createRefusalLog, guardRequest } from './request-guard.js';
import { readRequestDetail, toListView } from './request-view.js';

export interface LocalApiOptions {
  store: Store;
  /**
   * Required on every page and API request when set (header `Authorization: Bearer …` or `?token=`).
   * The CLI insists on one when the local listener is not on loopback.
   */
  token?: string | null;
  /**
   * Mints a request (write-ahead); injected so this folder does not depend on the client. A subscription's
   * `verificationToken` is answered with the URL: the caller creates the subscription with it.
   */
  mint: (input: {
    kind?: RequestKind;
    api?: string;
  }) => Promise<{ requestId: string; callbackUrl: string; verificationToken?: string }>;
  /**
   * The webhook requests the receiver refused lately, newest first (the receiver's `refusals.recent`);
   * served at `GET /api/refusals`. @defaultValue none: the route answers an empty list, marked unavailable
   */
  refusals?: () => readonly InspectorRefusal[];
  /**
   * Re-creates a kept subscription by name (the subscription keeper's repair), for
   * `POST /api/subscriptions/{name}/recreate`. @defaultValue none: that route answers 503 (no keeper here)
   */
  recreateSubscription?: (name: string) => Promise<void>;
  logger?: Logger;
}

export interface LocalApi {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/detail.js': { file: 'detail.js', type: 'text/javascript; charset=utf-8' },
  '/results.js': { file: 'results.js', type: 'text/javascript; charset=utf-8' },
  '/subscriptions.js': { file: 'subscriptions.js', type: 'text/javascript; charset=utf-8' },
  '/insights.js': { file: 'insights.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
/** No inline script or style, no other origin: stored payloads are shown as text and can load nothing. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The local JSON API (loopback only by default): what the inspector page and scripts read.
 * GET /api/requests, GET /api/requests/:id (request ID or jobId), GET /api/refusals, POST /api/mint,
 * GET /healthz; subscriptions and ACE insight records (push-routes.ts): GET /api/subscriptions,
 * POST /api/subscriptions/:name/recreate, GET /api/insights, GET /api/insights/:domain/:sourceRecordId[/export.*].
 * Only for this machine's scripts and the inspector page itself: a `Host` it does not serve, a write
 * from another web page, and a write that is not `application/json` are refused (see request-guard.ts).
 */
export function createLocalApi(options: LocalApiOptions): LocalApi {
  const { store, logger } = options;
  /** Set by listen(): the Host names accepted follow the address actually served. */
  let listenHost: string | null = null;
  const logRefusal = createRefusalLog((fields, message) => logger?.warn(fields, message));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const refusal = guardRequest(req, path, { listenHost, hasToken: Boolean(options.token) });
    if (refusal) {
      logRefusal(refusal, path);
      // The body is never read; closing spares us draining whatever a hostile page sent.
      res.setHeader('connection', 'close');
      return json(res, refusal.status, { error: { message: refusal.message, reason: refusal.reason } });
    }
    // Every route decodes its id; an invalid escape is the client's error, not an outage.
    if (!validEscapes(path)) return error(res, 400, 'malformed percent-encoding in the path');
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (options.token && !authorized(req, url, options.token))
      return error(res, 401, 'a valid --local-token is required');
    const page = req.method === 'GET' ? PAGE_FILES[path] : undefined;
    if (page) {
      let body: Buffer = await readFile(PAGE_DIR + page.file);
      // The page's own files are behind the token too: the page names them with it, or they answer 401.
      if (options.token && page.file === 'index.html') body = withTokenLinks(body, options.token);
      res.writeHead(200, { 'content-type': page.type, 'content-length': body.length, 'cache-control': 'no-cache' });
      return void res.end(body);
    }
    if (req.method === 'GET' && path === '/api/events') return live.open(req, res);
    const exported = /^\/api\/requests\/([^/]+)\/export\.(json|txt|srt|vtt)$/.exec(path);
    if (req.method === 'GET' && exported) {
      const request = await store.findRequest(decodeURIComponent(exported[1]!));
      const outcome = request ? await readOutcome(store, request) : null;
      if (!outcome) return error(res, 404, 'no result to export for that request');
      let out: { body: string; contentType: string };
      try {
        out = exportResult(outcome.envelope.response, exported[2] as ExportFormat);
      } catch (err) {
        return error(res, 422, (err as Error).message);
      }
      return download(res, out, `${outcome.delivery.requestId}.${exported[2]}`);
    }
    if (req.method === 'GET' && path === '/api/requests') {
      const state = url.searchParams.get('state');
      if (state !== null && !isDisplayState(state)) {
        return error(res, 400, `state must be one of ${DISPLAY_STATES.join(', ')}`);
      }
      const limit = Number(url.searchParams.get('limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return error(res, 400, 'limit must be 1..10000');
      const requests = await store.listRequests({
        state: state ?? undefined,
        api: url.searchParams.get('api') ?? undefined,
        limit,
      });
      return json(res, 200, { requests: await Promise.all(requests.map((r) => toListView(store, r))) });
    }
    if (req.method === 'GET' && path === '/api/refusals') {
      const recent = options.refusals?.() ?? [];
      return json(res, 200, { available: Boolean(options.refusals), refusals: recent.map(toRefusalView) });
    }
    const detail = /^\/api\/requests\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && detail) {
      const request = await store.findRequest(decodeURIComponent(detail[1]!));
      if (!request) return error(res, 404, 'no request with that request ID or jobId');
      return json(res, 200, await readRequestDetail(store, request));
    }
    const replay = /^\/api\/requests\/([^/]+)\/replay$/.exec(path);
    if (req.method === 'POST' && replay) {
      const request = await store.findRequest(decodeURIComponent(replay[1]!));
      if (!request) return error(res, 404, 'no request with that request ID or jobId');
      const runs = await store.retryHandlerRuns(request.requestId, { all: true });
      return json(res, 202, { requestId: request.requestId, runs });
    }
    if (req.method === 'POST' && path === '/api/mint') {
      const input = await readJson(req);
      if (input === undefined) return error(res, 400, 'body must be a JSON object (or empty)');
      const kind = input.kind ?? 'job';
      if (kind !== 'job' && kind !== 'subscription') return error(res, 400, 'kind must be "job" or "subscription"');
      if (input.api !== undefined && typeof input.api !== 'string') return error(res, 400, 'api must be a string');
      return json(res, 201, await options.mint({ kind, api: input.api }));
    }
    if (await routePush(req, res, url, options)) return;
    return error(res, 404, 'not found');
  }

  const live = createLiveEvents({ store, refusals: options.refusals, logger });

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 0 }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      logger?.error({ err }, 'local API request failed');
      if (!res.headersSent) error(res, 503, (err as Error).message);
    });
  });

  return {
    server,
    listen: (port, host) => {
      listenHost = host;
      return listenOn(server, port, host);
    },
    close() {
      live.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const presented =
    /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('token') ?? '';
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `/app.js` → `/app.js?token=…` in the page's script and stylesheet links. */
function withTokenLinks(html: Buffer, token: string): Buffer {
  const query = `?token=${encodeURIComponent(token)}`;
  return Buffer.from(html.toString('utf8').replace(/(src|href)="(\/[a-z]+\.(?:js|css))"/g, `$1="$2${query}"`));
}

function validEscapes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
