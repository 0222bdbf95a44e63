import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real node:http "RingCentral platform" on 127.0.0.1:0 for platform-level faults: it answers the SDK's
 * token and revoke requests as the platform does (JWT bearer grant, HTTP Basic client credentials) and
 * hands every other request to `route`. It counts requests per `METHOD path` and can be closed even while
 * a handler holds a request open forever.
 */
export interface FakePlatform {
  url: string;
  /** Requests received so far, e.g. `count('POST /ai/text/v1/async/punctuate')`. */
  count(key: string): number;
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export async function startFakePlatform(route: Route): Promise<FakePlatform> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const key = `${req.method} ${path}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (key === 'POST /restapi/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            access_token: 'fake-access',
            token_type: 'bearer',
            expires_in: 3600,
            refresh_token: 'fake-refresh',
            refresh_token_expires_in: 604_800,
            scope: 'AI',
            owner_id: '1',
          }),
        );
        return;
      }
      if (key === 'POST /restapi/oauth/revoke') {
        res.writeHead(200).end();
        return;
      }
      route(req, res, Buffer.concat(chunks));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (key) => counts.get(key) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A terminal `Success` envelope of about `bytes` bytes: a speech-to-text result with a long transcript. */
export function largeSuccessEnvelope(jobId: string, bytes: number): Buffer {
  const sentence = 'the router keeps dropping the connection every evening around nine ';
  const words: { word: string; start: number; end: number; confidence: number }[] = [];
  const envelope = {
    jobId,
    api: '/ai/audio/v1/async/speech-to-text',
    creationTime: '2026-11-26T10:00:00.000Z',
    completionTime: '2026-11-26T10:01:00.000Z',
    expirationTime: '2099-12-03T10:00:00.000Z',
    status: 'Success',
    response: {
      transcript: sentence.repeat(Math.ceil(bytes / 2 / sentence.length)).trim(),
      confidence: 0.93,
      words,
      utterances: [],
    },
  };
  // Words fill the other half, so the body is real-shaped JSON rather than one long string.
  const word = (i: number): (typeof words)[number] => ({ word: 'router', start: i, end: i + 0.5, confidence: 0.9 });
  const perWord = JSON.stringify(word(100_000)).length + 1;
  const missing = bytes - JSON.stringify(envelope).length;
  for (let i = 0; i < missing / perWord; i++) words.push(word(100_000 + i));
  return Buffer.from(JSON.stringify(envelope));
}
