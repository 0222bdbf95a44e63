import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../../src/http-listen.js';

/**
 * A load balancer on loopback in front of several receivers: each request goes to the next backend in turn.
 * A backend that refuses the connection (a stopped instance) is skipped for that request, as a balancer's
 * passive health check (nginx `proxy_next_upstream error`) does: nothing was sent to it, so trying the next
 * one cannot deliver anything twice. Any other failure answers 502. Each request uses a connection of its
 * own, so closing a backend never strands a pooled socket.
 */
export interface RoundRobinProxy {
  url: string;
  /** Every request a backend answered, in order. */
  answered: { backend: string; method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: readonly string[]): Promise<RoundRobinProxy> {
  const answered: RoundRobinProxy['answered'] = [];
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, tries: number): void => {
    const backend = backends[next++ % backends.length]!;
    const target = new URL(backend);
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length), connection: 'close' },
        agent: false,
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        answered.push({ backend, method: req.method ?? '?', path: req.url ?? '/', status });
        res.writeHead(status, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' && tries + 1 < backends.length) return forward(req, res, body, tries + 1);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), 0));
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
