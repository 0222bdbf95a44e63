import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiRejectedError } from '../../src/errors.js';
import { createPlatform, PlatformNetworkError, type Platform } from '../../src/ringcentral/platform.js';
import { largeSuccessEnvelope, startFakePlatform, type FakePlatform } from './fake-platform.js';
import { closedPort } from '../helpers/ports.js';

const credentials = (server: string) => ({ server, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function fake(route: Parameters<typeof startFakePlatform>[0]): Promise<FakePlatform> {
  const platform = await startFakePlatform(route);
  cleanups.push(() => platform.close());
  return platform;
}

function client(server: string, options: Parameters<typeof createPlatform>[1] = {}): Platform {
  const platform = createPlatform(credentials(server), options);
  cleanups.push(() => platform.close());
  return platform;
}

const SIZES = [70_000, 300_000, 2_000_000];

describe('createPlatform: every answer read whole', () => {
  it('returns the exact bytes of 70 KB, 300 KB and 2 MB status answers (they used to stall past ~64 KiB)', async () => {
    const bodies = new Map(SIZES.map((size) => [`job-${size}`, largeSuccessEnvelope(`job-${size}`, size)]));
    const server = await fake((req, res) => {
      const body = bodies.get(req.url!.split('/').at(-1)!)!;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    const platform = client(server.url, { timeoutMs: 20_000 });
    for (const [jobId, body] of bodies) {
      const answer = await platform.get(`/ai/status/v1/jobs/${jobId}`);
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(body.length);
      expect(answer.body.equals(body)).toBe(true);
      expect(answer.text).toBe(body.toString('utf8'));
    }
  });

  it('returns a 400 whose error body is 100 KB (the SDK clones error answers: that stalled too)', async () => {
    const message = 'x'.repeat(100_000);
    const server = await fake((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errorCode: 'CAI-101', message, errors: [{ errorCode: 'CAI-101', message }] }));
    });
    const answer = await client(server.url, { timeoutMs: 20_000 }).post('/ai/text/v1/async/punctuate', {});
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.text) as { message: string }).message).toBe(message);
  });
});

describe('createPlatform: deadlines and network failures', () => {
  it('cuts a call the platform never answers at timeoutMs, as a PlatformNetworkError that may have arrived', async () => {
    const server = await fake(() => undefined); // accepts, then never answers
    const started = Date.now();
    const error = await client(server.url, { timeoutMs: 300 })
      .post('/ai/text/v1/async/punctuate', { texts: ['hi'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error).toMatchObject({
      code: 'JH_ERR_PLATFORM_UNREACHABLE',
      mayHaveReachedPlatform: true,
      duringLogin: false,
      message: `cannot reach the RingCentral platform at ${server.url}: no complete answer within 300 ms`,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.count('POST /ai/text/v1/async/punctuate')).toBe(1);
  });

  it('cuts an answer whose body stops halfway (headers sent, body never finished)', async () => {
    const server = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"jobId":'); // and nothing more
    });
    const error = await client(server.url, { timeoutMs: 300 })
      .get('/ai/status/v1/jobs/x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE', mayHaveReachedPlatform: true });
  });

  it('reports a closed port clearly, as never sent, after retrying the login', async () => {
    const port = await closedPort();
    const error = await client(`http://127.0.0.1:${port}`, { loginAttempts: 3, loginRetryBaseMs: 10 })
      .get('/ai/status/v1/jobs/x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error).toMatchObject({
      code: 'JH_ERR_PLATFORM_UNREACHABLE',
      duringLogin: true,
      mayHaveReachedPlatform: false,
    });
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot reach the RingCentral platform at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('retries a login whose connections are reset loginAttempts times, with backoff, then gives up', async () => {
    let connections = 0;
    const resetter: Server = createNetServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => resetter.close(() => resolve())));
    const url = `http://127.0.0.1:${(resetter.address() as AddressInfo).port}`;
    const started = Date.now();
    const platform = client(url, { loginAttempts: 4, loginRetryBaseMs: 50 });
    const error = await platform.get('/ai/status/v1/jobs/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE', duringLogin: true });
    expect(connections).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50 + 100 + 200 - 20); // the backoff was waited
    // A later call starts a fresh login chain rather than remembering the failure.
    await platform.get('/ai/status/v1/jobs/x').catch(() => undefined);
    expect(connections).toBe(8);
  });

  it('turns a refused login into ApiRejectedError without retrying it', async () => {
    let tokenRequests = 0;
    const http = createHttpServer((_req, res) => {
      tokenRequests++;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: 'invalid_grant', errors: [{ errorCode: 'OAU-213', message: 'Token is expired' }] }),
      );
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const error = await client(url, { loginAttempts: 3, loginRetryBaseMs: 10 })
      .get('/x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({ code: 'JH_ERR_API_REJECTED', status: 400, errorCode: 'OAU-213' });
    expect(tokenRequests).toBe(1);
  });
});

/**
 * A platform whose token endpoint answers each grant as `token` says (status, `expires_in`), logging the
 * grants and the other requests in order; other requests get a 202.
 */
async function tokenPlatform(token: (grant: string, nth: number) => [number, number]): Promise<{
  url: string;
  log: string[];
}> {
  const log: string[] = [];
  const http = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== '/restapi/oauth/token') {
        log.push(`${req.method} ${req.url}`);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"jobId":"j"}');
        return;
      }
      const grant = new URLSearchParams(Buffer.concat(chunks).toString()).get('grant_type') ?? '';
      log.push(grant.endsWith('jwt-bearer') ? 'login' : grant);
      const [status, expiresIn] = token(grant, log.filter((l) => !l.startsWith('POST')).length);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200
            ? {
                access_token: `a${log.length}`,
                token_type: 'bearer',
                expires_in: expiresIn,
                refresh_token: 'r',
                refresh_token_expires_in: 604_800,
              }
            : { error: 'invalid_grant', errors: [{ errorCode: 'OAU-211', message: 'Token is revoked' }] },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, log };
}

const PUNCTUATE = '/ai/text/v1/async/punctuate';

describe('createPlatform: ready() before the rate gate takes a grant', () => {
  it('logs in once for concurrent callers, and the call after it sends no token request', async () => {
    const server = await fake((_req, res) => res.writeHead(202).end('{}'));
    const platform = client(server.url);
    await Promise.all([platform.ready!(), platform.ready!()]);
    expect(server.count('POST /restapi/oauth/token')).toBe(1);
    await platform.ready!(); // a fresh token (an hour): nothing to do
    expect((await platform.post(PUNCTUATE, {})).status).toBe(202);
    expect(server.count('POST /restapi/oauth/token')).toBe(1);
  });

  it('refreshes a token that expires within two minutes, so that the call after it does not', async () => {
    // Logged in with 90 s left: the SDK would refresh inside a call made 30 s later, after the grant.
    const server = await tokenPlatform((grant) => [200, grant === 'refresh_token' ? 3600 : 90]);
    const platform = client(server.url);
    await platform.ready!();
    expect(server.log).toEqual(['login', 'refresh_token']);
    await platform.ready!();
    await platform.post(PUNCTUATE, {});
    expect(server.log).toEqual(['login', 'refresh_token', `POST ${PUNCTUATE}`]);
  });

  it('logs in again with the JWT when the platform refuses the refresh', async () => {
    const server = await tokenPlatform((grant, nth) =>
      grant === 'refresh_token' ? [400, 0] : [200, nth > 1 ? 3600 : 30],
    );
    const platform = client(server.url);
    await platform.ready!();
    await platform.post(PUNCTUATE, {});
    expect(server.log).toEqual(['login', 'refresh_token', 'login', `POST ${PUNCTUATE}`]);
  });

  it('rejects as a failed login does when the platform cannot be reached', async () => {
    const port = await closedPort();
    const error = await client(`http://127.0.0.1:${port}`, { loginAttempts: 2, loginRetryBaseMs: 10 }).ready!().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'JH_ERR_PLATFORM_UNREACHABLE',
      duringLogin: true,
      mayHaveReachedPlatform: false,
    });
  });
});
