import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isLoopback } from '../config-values.js';

/**
 * One HTTP/1.1 request over a raw socket, as `jobhook doctor` sends RingCentral's handshake and
 * notifications: RingCentral refuses an answer over 1024 bytes *status line, headers and body together*
 * (reference §3, Addendum), which only the bytes on the wire can tell — fetch hides the status line and
 * the header framing, and a tunnel in between adds headers of its own. TLS is verified as the platform
 * does (a missing intermediate certificate is SUB-524 there, and a failure here).
 */
export interface RawAnswer {
  status: number;
  statusLine: string;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
  /** Every byte of the answer as received: status line, headers, framing and body. */
  totalBytes: number;
  /** From starting to connect to the answer's last byte (DNS, TCP, TLS included, as for the platform). */
  elapsedMs: number;
  /** The answer was longer than `MAX_READ_BYTES` and was not read to its end (`totalBytes` is a lower bound). */
  truncated: boolean;
}

export type ExchangeFailureKind = 'dns' | 'refused' | 'timeout' | 'tls' | 'closed' | 'malformed' | 'network';

export type Exchange =
  { ok: true; answer: RawAnswer } | { ok: false; kind: ExchangeFailureKind; reason: string; elapsedMs: number };

/** `localhost`, `127.x.x.x`, `[::1]` (a URL's hostname): addresses only this machine, and an emulator on it, reach. */
export const isLoopbackHost = (hostname: string): boolean => isLoopback(hostname.replace(/^\[(.*)\]$/, '$1'));

/** Far above the 1 KB limit: enough to say by how much an answer is over it, without reading a whole page. */
export const MAX_READ_BYTES = 64 * 1024;

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/i;

function classify(error: NodeJS.ErrnoException): ExchangeFailureKind {
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code === 'ECONNREFUSED') return 'refused';
  if (TLS_CODES.test(code)) return 'tls';
  return 'network';
}

/** Where the head ends and how the body is framed; null while the head is incomplete. */
function parseHead(
  buffer: Buffer,
): { statusLine: string; status: number; headers: Record<string, string>; bodyStart: number } | null {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines[0]!;
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusLine, status: Number(match[1]), headers, bodyStart: end + 4 };
}

/** The decoded body of a chunked message once its last chunk has arrived; null while incomplete. */
function dechunk(raw: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    // Hex digits only: parseInt takes `-6` (and `at` then went backwards, looping for ever on the answer).
    const sizeText = raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
      throw new Error(`malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = parseInt(sizeText, 16);
    if (size === 0)
      return raw.indexOf('\r\n\r\n', lineEnd) >= 0 || raw.length >= lineEnd + 4 ? Buffer.concat(parts) : null;
    if (raw.length < lineEnd + 2 + size + 2) return null;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The answer in `received` once it is whole (or the connection closed), else null; throws when malformed. */
function answerOf(received: Buffer, closed: boolean, elapsedMs: number): RawAnswer | null {
  const parsed = parseHead(received);
  if (!parsed) {
    if (!closed) return null;
    throw new Error(
      received.length === 0 ? 'the connection closed without an answer' : 'the connection closed mid-headers',
    );
  }
  const raw = received.subarray(parsed.bodyStart);
  const truncated = received.length >= MAX_READ_BYTES;
  const { status, headers } = parsed;
  const length = headers['content-length'];
  let body: Buffer | null;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) body = Buffer.alloc(0);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(raw);
  else if (length !== undefined) body = raw.length >= Number(length) ? raw.subarray(0, Number(length)) : null;
  else body = closed ? raw : null; // framed by the connection's end
  if (body === null && !truncated) {
    if (!closed) return null;
    throw new Error('the connection closed before the whole body arrived');
  }
  return {
    status,
    statusLine: parsed.statusLine,
    headers,
    body: body ?? raw,
    totalBytes: received.length,
    elapsedMs,
    truncated,
  };
}

/**
 * POSTs `body` to `url` with `headers` (plus Host, Content-Length and `Connection: close`) and reads the
 * answer whole, within `timeoutMs` from the start. Never throws: a failure says what kind it was.
 */
export function rawPost(url: URL, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<Exchange> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (https ? 443 : 80));
  const head =
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;

  return new Promise((resolve) => {
    const socket: Socket = https
      ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host, port });
    let settled = false;
    let received = Buffer.alloc(0);
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const fail = (kind: ExchangeFailureKind, reason: string): void =>
      finish({ ok: false, kind, reason, elapsedMs: elapsed() });
    const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    const settle = (closed: boolean): void => {
      try {
        const answer = answerOf(received, closed, elapsed());
        if (answer) finish({ ok: true, answer });
      } catch (error) {
        fail(closed && received.length === 0 ? 'closed' : 'malformed', (error as Error).message);
      }
    };
    // Written, not ended: a half-closed request reads as an abort to some proxies and tunnels. The server
    // closes after its answer (`Connection: close`), and a complete answer settles before that anyway.
    socket.once(https ? 'secureConnect' : 'connect', () =>
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body])),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= MAX_READ_BYTES) received = received.subarray(0, MAX_READ_BYTES);
      settle(false);
    });
    socket.once('end', () => settle(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (received.length > 0) return settle(true);
      fail(
        classify(error),
        !error.code || error.message.includes(error.code) ? error.message : `${error.code}: ${error.message}`,
      );
    });
  });
}
