import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../../src/http-listen.js';

/**
 * An HTTP relay in front of the emulator that holds job submissions (`POST …/async/…`) until released, so a
 * `jobhook submit` stays mid-POST (its submission `submitting`) for as long as a test needs. Everything
 * else (login, status reads) passes straight through. A held submission whose client went away (killed) is
 * dropped, never sent on.
 */
export interface HoldingProxy {
  url: string;
  /** Submissions held right now. */
  held(): number;
  /** Waits until at least `count` submissions are held. */
  waitHeld(count: number, timeoutMs?: number): Promise<void>;
  /** Sends every held submission on (the ones whose client is still there), and stops holding new ones. */
  release(): void;
  /** Holds submissions again from now on. */
  hold(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(upstream: string): Promise<HoldingProxy> {
  const target = new URL(upstream);
  let holding = true;
  const waiting: (() => void)[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    if (req.socket.destroyed) return;
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (holding && req.method === 'POST' && /\/async\//.test(req.url ?? '')) {
        waiting.push(() => forward(req, res, body));
        return;
      }
      forward(req, res, body);
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => waiting.length,
    async waitHeld(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (waiting.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${waiting.length} of ${count} submissions held`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    release() {
      holding = false;
      for (const send of waiting.splice(0)) send();
    },
    hold() {
      holding = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
