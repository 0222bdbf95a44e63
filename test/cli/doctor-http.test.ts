import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_READ_BYTES, rawPost } from '../../src/cli/doctor-http.js';
import { listenOn } from '../../src/http-listen.js';
import { rawConnect } from '../helpers/raw-http.js';

/**
 * doctor's raw HTTP exchange: every byte of the answer counted as it crossed the wire, whatever its
 * framing (Content-Length, chunked, the connection's end), and failures told apart by kind.
 */
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
  const server = createServer((req, res) => {
    res.sendDate = false; // the same bytes for every request, so two exchanges compare
    req.resume();
    req.on('end', () => answer(req, res));
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  closers.push(() => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())));
  return new URL(`http://127.0.0.1:${port}/hook?x=1`);
}

/** The answer's bytes as a plain socket receives them, for the same request. */
async function wireBytes(url: URL): Promise<number> {
  const { socket, closed } = await rawConnect(Number(url.port));
  socket.write(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
  return Buffer.byteLength(await closed, 'latin1');
}

describe('rawPost', () => {
  it('reads a chunked answer whole: the decoded body, and every byte of the framing counted', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'x-a': 'b' });
      res.write('abc');
      setTimeout(() => res.end('defg'), 20);
    });
    const exchange = await rawPost(url, { 'Validation-Token': 't' }, Buffer.alloc(0), 2000);
    expect(exchange.ok).toBe(true);
    if (!exchange.ok) return;
    expect(exchange.answer).toMatchObject({ status: 200, statusLine: 'HTTP/1.1 200 OK', truncated: false });
    expect(exchange.answer.headers).toMatchObject({ 'transfer-encoding': 'chunked', 'x-a': 'b' });
    expect(exchange.answer.body.toString()).toBe('abcdefg');
    expect(exchange.answer.totalBytes).toBe(await wireBytes(url));
  });

  it('sends the body and headers given; an answer framed by Content-Length ends there', async () => {
    let seen: { headers: IncomingMessage['headers']; url: string } | undefined;
    const url = await serve((req, res) => {
      seen ??= { headers: req.headers, url: req.url ?? '' };
      res.writeHead(201, { 'content-length': '2' }).end('ok');
    });
    const exchange = await rawPost(url, { 'Verification-Token': 'v' }, Buffer.from('{"a":1}'), 2000);
    expect(exchange.ok && exchange.answer).toMatchObject({ status: 201, totalBytes: await wireBytes(url) });
    expect(seen).toMatchObject({ url: '/hook?x=1', headers: { 'verification-token': 'v', 'content-length': '7' } });
  });

  it('stops reading a huge answer at MAX_READ_BYTES and says so', async () => {
    const url = await serve((_req, res) => res.writeHead(200).end('z'.repeat(4 * MAX_READ_BYTES)));
    const exchange = await rawPost(url, {}, Buffer.alloc(0), 2000);
    expect(exchange.ok && exchange.answer).toMatchObject({ truncated: true, totalBytes: MAX_READ_BYTES });
  });

  it('tells refused, closed, malformed and timed-out exchanges apart', async () => {
    const tcp = (onData: (socket: import('node:net').Socket) => void) => {
      const server = createTcpServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => onData(socket));
      });
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      return new Promise<URL>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)),
        ),
      );
    };
    const closed = await rawPost(await tcp((s) => s.end()), {}, Buffer.alloc(0), 2000);
    expect(closed).toMatchObject({ ok: false, kind: 'closed' });
    const garbage = await rawPost(await tcp((s) => s.end('SMTP ready\r\n\r\n')), {}, Buffer.alloc(0), 2000);
    expect(garbage).toMatchObject({ ok: false, kind: 'malformed' });
    // A negative chunk size (parseInt takes `-6`) made the parser loop for ever (review finding).
    const negative = await rawPost(
      await tcp((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-6\r\n')),
      {},
      Buffer.alloc(0),
      1000,
    );
    expect(negative).toMatchObject({ ok: false, kind: 'malformed' });
    const silent = await rawPost(await tcp(() => undefined), {}, Buffer.alloc(0), 100);
    expect(silent).toMatchObject({ ok: false, kind: 'timeout', reason: 'no complete answer within 100 ms' });
    const gone = createTcpServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const { port } = gone.address() as AddressInfo;
    await new Promise((resolve) => gone.close(resolve));
    const refused = await rawPost(new URL(`http://127.0.0.1:${port}/`), {}, Buffer.alloc(0), 2000);
    expect(refused).toMatchObject({ ok: false, kind: 'refused' });
  });
});
