import { afterEach, describe, expect, it } from 'vitest';
import { startLocalApi, type LocalApiHarness } from '../helpers/local-api-harness.js';
import { rawConnect } from '../helpers/raw-http.js';
import type { Harness } from '../helpers/receiver-harness.js';

/**
 * jobhook issue #9: any web page could use the local API. A DNS-rebinding page (Host: attacker.example)
 * read transcripts and callback URLs; a cross-origin "simple request" minted and replayed. These tests
 * speak raw HTTP so every header is exactly what a hostile browser or page would send.
 */
let local: LocalApiHarness;
let harness: Harness;
let port: number;
let requestId: string;

async function start(): Promise<void> {
  local = await startLocalApi();
  ({ harness, port, requestId } = local);
}

afterEach(() => local.close());

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** One request over a fresh connection; gives up after `waitMs` (an SSE stream on the old code never ends). */
async function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
  version = '1.1',
  waitMs = 3000,
): Promise<RawAnswer> {
  const { socket, closed } = await rawConnect(port);
  const lines = [`${method} ${path} HTTP/${version}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== '' || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  const timer = setTimeout(() => socket.destroy(), waitMs);
  const text = await closed;
  clearTimeout(timer);
  const [head = '', rest = ''] = text.split('\r\n\r\n', 2);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest };
}

const runState = (): Promise<string | undefined> => local.runState();

const ROUTES: [string, string][] = [
  ['GET', '/'],
  ['GET', '/app.js'],
  ['GET', '/api/requests'],
  ['GET', '/api/requests/:id'],
  ['GET', '/api/requests/:id/export.json'],
  ['GET', '/api/events'],
  ['POST', '/api/mint'],
  ['POST', '/api/requests/:id/replay'],
];

describe('DNS rebinding: a Host the listener does not serve', () => {
  it('is refused on every route with 403, reading and changing nothing', async () => {
    await start();
    const before = harness.counts();
    for (const host of ['attacker.example', `attacker.example:${port}`, '127.0.0.1.attacker.example', 'localhost.']) {
      for (const [method, template] of ROUTES) {
        const path = template.replace(':id', requestId);
        const answer = await raw(method, path, { Host: host, 'Content-Type': 'application/json' }, '{}');
        expect(answer.status, `${method} ${path} Host: ${host}`).toBe(403);
        expect(answer.body).not.toContain(requestId);
        expect(answer.body).not.toContain('/webhooks/');
        expect(answer.body).toContain('"error"');
        expect(answer.headers.toLowerCase()).not.toContain('access-control-allow-origin');
      }
    }
    expect(harness.counts()).toEqual(before);
    expect(await runState()).toBe('succeeded');
    expect(local.warnings).toContainEqual(
      expect.objectContaining({ reason: 'foreign-host', refused: 'attacker.example' }),
    );
  });

  it('serves loopback names on any port, and a loopback client that sends no Host (HTTP/1.0)', async () => {
    await start();
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `127.1.2.3:${port}`, `[::1]:${port}`]) {
      const answer = await raw('GET', '/api/requests', { Host: host });
      expect(answer.status, host).toBe(200);
      expect(answer.body).toContain(requestId);
    }
    expect((await raw('GET', '/api/requests', {}, '', '1.0')).status).toBe(200);
  });
});

describe('cross-origin writes (CSRF)', () => {
  it('refuses every CORS simple request and every foreign Origin on POST /api/mint; nothing is minted', async () => {
    await start();
    const host = `127.0.0.1:${port}`;
    const evil = 'http://evil.example';
    const attempts: [Record<string, string>, string][] = [
      [{ Origin: evil, 'Content-Type': 'text/plain' }, '{}'],
      [{ Origin: evil, 'Content-Type': 'application/x-www-form-urlencoded' }, '{"kind":"job"}='],
      [{ Origin: evil, 'Content-Type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\n{}\r\n--x--\r\n'],
      [{ Origin: evil }, ''],
      [{ Origin: 'null', 'Content-Type': 'text/plain' }, '{}'],
      [{ Origin: 'null', 'Content-Type': 'application/json' }, '{}'],
      [{ Origin: evil, 'Content-Type': 'application/json' }, '{}'],
      [{ Origin: `http://127.0.0.1:${port + 1}`, 'Content-Type': 'application/json' }, '{}'],
      [{ 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' }, '{}'],
      [{ 'Sec-Fetch-Site': 'same-site', 'Content-Type': 'application/json' }, '{}'],
      // Without an Origin (old browsers, curl) the content type alone still forbids the simple forms.
      [{ 'Content-Type': 'text/plain' }, '{}'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=b'],
      [{}, ''],
      [{ Origin: `http://${host}`, 'Content-Type': 'text/plain;charset=UTF-8' }, '{}'],
    ];
    const before = harness.counts();
    for (const [headers, body] of attempts) {
      const answer = await raw('POST', '/api/mint', { Host: host, ...headers }, body);
      expect([403, 415], JSON.stringify(headers)).toContain(answer.status);
      expect(answer.body).not.toContain('callbackUrl');
    }
    expect(harness.counts()).toEqual(before);
    const ownPage = await raw(
      'POST',
      '/api/mint',
      { Host: host, Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json' },
      '{}',
    );
    expect(ownPage.status).toBe(201);
    expect(harness.counts().requests).toBe(before.requests + 1);
  });

  it('refuses a cross-origin replay; the inspector page’s own JSON replay works', async () => {
    await start();
    const host = `127.0.0.1:${port}`;
    const path = `/api/requests/${requestId}/replay`;
    const attempts: Record<string, string>[] = [
      { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
      { Origin: 'null', 'Content-Type': 'application/json' },
      { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' },
      { 'Content-Type': 'text/plain' },
    ];
    for (const headers of attempts) {
      expect([403, 415]).toContain((await raw('POST', path, { Host: host, ...headers }, '{}')).status);
    }
    expect(await runState()).toBe('succeeded');
    const own = { Host: host, Origin: `http://${host}`, 'Content-Type': 'application/json' };
    expect((await raw('POST', path, own, '{}')).status).toBe(202);
    expect(await runState()).toBe('pending');
  });

  it('refuses data reads from other pages, but still serves the page itself to a link from another site', async () => {
    await start();
    const host = `127.0.0.1:${port}`;
    for (const path of ['/api/requests', `/api/requests/${requestId}`, '/api/events']) {
      const foreign: Record<string, string>[] = [{ Origin: 'http://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }];
      for (const headers of foreign) {
        const answer = await raw('GET', path, { Host: host, ...headers });
        expect(answer.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(answer.body).not.toContain(requestId);
      }
    }
    expect((await raw('GET', '/', { Host: host, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(200);
    expect((await raw('GET', '/api/requests', { Host: host, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await raw('GET', '/api/requests', { Host: host, 'Sec-Fetch-Site': 'none' })).status).toBe(200);
  });

  it('logs each refusal once per reason and origin', async () => {
    await start();
    const host = `127.0.0.1:${port}`;
    for (let i = 0; i < 5; i++) {
      await raw('POST', '/api/mint', { Host: host, Origin: 'http://evil.example', 'Content-Type': 'text/plain' });
    }
    await raw('POST', '/api/mint', { Host: host, Origin: 'http://other.example', 'Content-Type': 'text/plain' });
    expect(local.warnings.map((w) => w.refused)).toEqual(['http://evil.example', 'http://other.example']);
  });
});

describe('malformed percent-encoding', () => {
  it('answers 400 with a JSON error, not 503', async () => {
    await start();
    const host = { Host: `127.0.0.1:${port}` };
    for (const path of ['/api/requests/%E0%A4%A', '/api/requests/%E0%A4%A/export.json', '/api/requests/%ZZ']) {
      const answer = await raw('GET', path, host);
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: { message: expect.any(String) as string } });
    }
    const json = { ...host, 'Content-Type': 'application/json' };
    expect((await raw('POST', '/api/requests/%E0%A4%A/replay', json, '{}')).status).toBe(400);
  });
});
