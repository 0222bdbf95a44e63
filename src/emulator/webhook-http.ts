import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * One POST to a subscriber's address, measured as the platform judges it (reference §3 and the Addendum):
 * the whole answer — status line, headers and body — must fit in `maxAnswerBytes`, within `timeoutMs`.
 * node:http rather than fetch, because fetch hides the raw header bytes and keeps sockets alive.
 */
export type WebhookOutcome =
  | {
      kind: 'answered';
      status: number;
      statusText: string;
      headers: IncomingHttpHeaders;
      bytes: number;
      overLimit: boolean;
    }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; message: string }
  | { kind: 'error'; message: string };

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET']);

export function postToWebhook(
  address: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  maxAnswerBytes: number,
): Promise<WebhookOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: WebhookOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      resolve({ kind: 'error', message: 'invalid address' });
      return;
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body, 'utf8');
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': String(payload.length) },
    });
    const timer = setTimeout(() => {
      finish({ kind: 'timeout' });
      req.destroy();
    }, timeoutMs);
    timer.unref();
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      finish(
        UNREACHABLE.has(code)
          ? { kind: 'unreachable', message: code }
          : { kind: 'error', message: error.message || code },
      );
    });
    req.on('response', (res) => {
      let bytes = `HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\r\n`.length + 2;
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        bytes += Buffer.byteLength(`${res.rawHeaders[i]!}: ${res.rawHeaders[i + 1]!}\r\n`);
      }
      const answered = (): WebhookOutcome => ({
        kind: 'answered',
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers: res.headers,
        bytes,
        overLimit: bytes > maxAnswerBytes,
      });
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // Past the limit the answer is refused whatever follows: stop reading.
        if (bytes > maxAnswerBytes) {
          finish(answered());
          res.destroy();
        }
      });
      res.on('end', () => finish(answered()));
      res.on('error', () => finish(answered()));
    });
    req.end(payload);
  });
}
