import type { IncomingMessage } from 'node:http';

/**
 * Why the local API may be used only by this machine's own scripts and by its own page.
 *
 * The local listener holds every transcript and every callback URL (a callback URL is the credential that
 * lets anyone post a forged result), and it can mint and replay. A browser will send requests to it from
 * any web page the user opens, so two kinds of page must be told apart from the inspector page:
 * - a page on another origin (another site, or another port on localhost) that fires requests at
 *   127.0.0.1:4040. It cannot read the answers (no `Access-Control-Allow-Origin`, ever), but a CORS
 *   "simple request" (text/plain, form or multipart POST, no preflight) still reaches the server and would
 *   change state. Browsers send `Origin` on every such POST (`null` from sandboxed frames and some
 *   redirects) and `Sec-Fetch-Site`, so those are refused, and so is any write that is not
 *   `application/json`, which no page can send cross-origin without a preflight we never grant.
 * - a DNS-rebinding page: attacker.example first resolves to the attacker, then to 127.0.0.1, so the page is
 *   same-origin with us as far as the browser knows and can read answers. Only the `Host` header gives it
 *   away, so a request is served only when `Host` names an address this listener serves.
 */

/** What the guard needs to know about the listener. */
export interface GuardContext {
  /** The host given to `listen()` (`127.0.0.1`, `::1`, `localhost`, `0.0.0.0`…); null before it listens. */
  listenHost: string | null;
  /** Whether a `--local-token` is required on every request. */
  hasToken: boolean;
}

export interface Refusal {
  status: 403 | 415;
  /** Stable short reason, also the first half of the log de-duplication key. */
  reason: 'foreign-host' | 'cross-origin' | 'not-json';
  message: string;
  /** The Host, Origin or Content-Type that was refused, for the log. */
  subject: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);
/** Routes that hold no data: the page itself may be opened from a link on another site. */
const PAGE_PATHS = new Set(['/', '/app.js', '/app.css', '/healthz']);

/**
 * Decides whether a request may be served; null when it may. Reads only headers, so a refused request
 * has had nothing read or changed.
 */
export function guardRequest(req: IncomingMessage, path: string, context: GuardContext): Refusal | null {
  const host = req.headers.host;
  if (!hostAllowed(host, req, context)) {
    return {
      status: 403,
      reason: 'foreign-host',
      message: 'this listener does not serve that Host (DNS rebinding?)',
      subject: host ?? '(none)',
    };
  }
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const foreignOrigin = origin !== undefined && !sameOrigin(origin, host);
  const otherSite = site === 'cross-site' || site === 'same-site';
  const writes = req.method !== 'GET' && req.method !== 'HEAD';
  // Reads of the page files carry no data; every API read does (transcripts, callback URLs), so refuse
  // those too when a browser says another page asked, although it could not read the answer anyway.
  if ((writes || !PAGE_PATHS.has(path)) && (foreignOrigin || otherSite)) {
    return {
      status: 403,
      reason: 'cross-origin',
      message: 'requests from other web pages are refused',
      subject: origin ?? `sec-fetch-site: ${String(site)}`,
    };
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (writes && type !== 'application/json') {
    return {
      status: 415,
      reason: 'not-json',
      message: 'state-changing requests need Content-Type: application/json',
      subject: type || '(none)',
    };
  }
  return null;
}

function hostAllowed(host: string | undefined, req: IncomingMessage, context: GuardContext): boolean {
  const listenHost = normalise(context.listenHost ?? '127.0.0.1');
  // On a wildcard address the listener answers to every name and address of the machine, which cannot be
  // listed; the CLI refuses to bind there without a token, and the token is what a rebinding page lacks.
  if (WILDCARDS.has(listenHost) && context.hasToken) return true;
  // HTTP/1.0 clients may send no Host; browsers always do, so only a loopback peer is trusted without one.
  if (host === undefined || host === '') return isLoopback(normalise(req.socket.remoteAddress ?? ''));
  const name = hostname(host);
  if (name === null) return false;
  return isLoopback(name) || (!WILDCARDS.has(listenHost) && name === listenHost);
}

/** The name part of a Host header (any port), lowercased, IPv6 without brackets; null when malformed. */
function hostname(host: string): string | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!match) return null;
  return normalise(match[1] ?? match[2]!);
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function isLoopback(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  const v4 = /^(?:::ffff:)?127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return v4 !== null && v4.slice(1).every((octet) => Number(octet) <= 255);
}

/** The listener's own origin is `http://` + the Host the request came to; `null` and other origins are not. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === 'null') return false;
  try {
    return new URL(origin).origin === new URL(`http://${host}`).origin;
  } catch {
    return false;
  }
}

/**
 * Logs each refusal once per (reason, subject), with at most `capacity` distinct keys, so a hostile page
 * that varies its Origin cannot flood the log.
 */
export function createRefusalLog(
  warn: (fields: Record<string, unknown>, message: string) => void,
  capacity = 100,
): (refusal: Refusal, path: string) => void {
  const seen = new Set<string>();
  return (refusal, path) => {
    const key = `${refusal.reason}\u0000${refusal.subject}`;
    if (seen.has(key) || seen.size >= capacity) return;
    seen.add(key);
    const last = seen.size === capacity;
    warn(
      {
        reason: refusal.reason,
        refused: refusal.subject.slice(0, 200),
        path: path.slice(0, 200),
        status: refusal.status,
      },
      last
        ? 'local API refused a request; further new refusals are not logged'
        : 'local API refused a request (logged once per reason and origin/host)',
    );
  };
}
