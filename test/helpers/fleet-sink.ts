import { createServer } from 'node:http';
import { listenOn } from '../../src/http-listen.js';

/**
 * The `--forward-to` target of a fleet: counts forwards per request (`x-jobhook-request-id`) and answers
 * 200 only after `delayMs`, so each instance's handler runs are in flight for a while (an instance killed
 * then dies holding runs, which its peer must take over once their lease expires).
 */
export interface ForwardSink {
  url: string;
  /** Forwards received per request ID (a run attempted twice counts 2). */
  counts: Map<string, number>;
  /** Forwards that arrived without the request-ID header or with an empty body: should stay 0. */
  malformed: number;
  close(): Promise<void>;
}

export async function startForwardSink(delayMs: number): Promise<ForwardSink> {
  const counts = new Map<string, number>();
  const sink = { counts, malformed: 0 } as ForwardSink;
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const id = req.headers['x-jobhook-request-id'];
      if (typeof id !== 'string' || bytes === 0) sink.malformed++;
      else counts.set(id, (counts.get(id) ?? 0) + 1);
      setTimeout(() => res.writeHead(200).end(), delayMs);
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  sink.url = `http://127.0.0.1:${port}/forwarded`;
  sink.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return sink;
}
