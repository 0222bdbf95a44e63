import { connect, type Socket } from 'node:net';

/**
 * A raw TCP client for what fetch cannot do: declare a huge Content-Length, stream an endless chunked
 * body, or stall mid-headers. Resolves with everything the server sent and when it closed.
 */
export interface RawExchange {
  socket: Socket;
  /** Resolves with the bytes received once the server closes (or errors) the connection. */
  closed: Promise<string>;
}

export function rawConnect(port: number): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<string>((done) => {
      socket.on('close', () => done(received));
      socket.on('error', () => undefined); // EPIPE/ECONNRESET are expected when the server cuts us off
    });
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/**
 * Streams `totalBytes` of chunked body to `path`, stopping early when the server closes the connection.
 * Returns what the server answered and how many body bytes were written.
 */
export async function streamChunked(
  port: number,
  path: string,
  totalBytes: number,
): Promise<{ response: string; sent: number }> {
  const { socket, closed } = await rawConnect(port);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let sent = 0;
  const connection = { open: true };
  void closed.then(() => (connection.open = false));
  while (connection.open && sent < totalBytes) {
    const flushed = socket.write(framed);
    sent += chunk.length;
    if (!flushed) {
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
    }
  }
  if (connection.open) socket.end('0\r\n\r\n');
  return { response: await closed, sent };
}
