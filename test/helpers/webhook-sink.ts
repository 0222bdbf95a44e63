import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenOn } from '../../src/http-listen.js';

/** A plain node:http server that records every POST it gets, answering `status` (200 by default). */
export interface WebhookSink {
  url: string;
  server: Server;
  received: { path: string; headers: IncomingHttpHeaders; body: string }[];
  /** Status to answer with; a function may vary it per delivery. */
  answer: number | ((index: number) => number);
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: WebhookSink['received'] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sink = {} as WebhookSink;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = received.length;
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = typeof sink.answer === 'function' ? sink.answer(index) : sink.answer;
      res.writeHead(status).end();
      for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  Object.assign(sink, {
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    answer: 200,
    waitFor(count: number, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${received.length} of ${count} webhooks arrived`)),
          timeoutMs,
        );
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  });
  return sink;
}

/** A well-formed (unsigned) JWT, as the emulator accepts by default. */
export function fakeJwt(subject = 'test-user'): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: subject, iss: 'https://platform.ringcentral.com' })}.c2lnbmF0dXJl`;
}
