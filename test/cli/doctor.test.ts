import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { advertiseServer } from '../../src/cli/advertised-server.js';
import { doctorCommand, type DoctorOptions } from '../../src/cli/doctor.js';
import type { CheckResult } from '../../src/cli/doctor-report.js';
import { DOCTOR_EVENT } from '../../src/cli/doctor-url.js';
import { parseInvocation } from '../../src/config.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { listenOn } from '../../src/http-listen.js';
import { startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * `jobhook doctor` in-process against the emulator and real receivers on 127.0.0.1: a jobhook receiver
 * passes; receivers that get the handshake wrong (no echo, too big, too slow, nowhere) are named with the
 * code RingCentral would answer; a scope, a permission or a login taken away is named with its fix.
 */
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function emulator(config: Parameters<typeof createEmulator>[0] = {}): Promise<{ base: string; emu: Emulator }> {
  const emu = createEmulator(config);
  const { port } = await emu.listen(0, '127.0.0.1');
  closers.push(() => emu.close());
  return { base: `http://127.0.0.1:${port}`, emu };
}

async function receiver(dbPath = tempDbPath()): Promise<Harness> {
  const harness = await startHarness(dbPath);
  closers.push(() => harness.close());
  return harness;
}

/** A plain node:http server answering every request with `answer`. */
async function plainServer(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${port}`;
}

interface Run {
  code: number;
  text: string;
  checks: CheckResult[];
  byName: (check: string) => CheckResult;
}

/** Runs doctor twice over the same setup would send two handshakes; each run is one, in text or JSON. */
async function doctor(args: string[], env: NodeJS.ProcessEnv, options: DoctorOptions = {}): Promise<Run> {
  const json = args.includes('--json');
  const { config } = parseInvocation(['doctor', ...args], {});
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const code = await doctorCommand(config, [], out, { env, platformTimeoutMs: 5000, ...options });
  const checks = json ? (JSON.parse(text) as { checks: CheckResult[] }).checks : [];
  return {
    code,
    text,
    checks,
    byName: (check) => {
      const found = checks.find((c) => c.check === check);
      if (!found) throw new Error(`no check ${check} in ${text}`);
      return found;
    },
  };
}

const lineOf = (text: string, check: string): string =>
  text.split('\n').find((l) => new RegExp(`^\\S+\\s+${check.replace(/[.*+?^${}()|[\]\\:]/g, '\\$&')}\\s`).test(l)) ??
  `(no line for ${check} in:\n${text})`;

const freePort = async (): Promise<number> => {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

describe('jobhook doctor against the emulator and a jobhook receiver', () => {
  it('passes every check, measures the handshake on the wire, and stores the accepted notification', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const run = await doctor(['--db', harness.dbPath, '--public-url', harness.baseUrl, '--json'], {
      RC_SERVER_URL: base,
    });
    expect(run.code, run.text).toBe(0);
    const statuses = Object.fromEntries(run.checks.map((c) => [c.check, c.status]));
    expect(statuses).toEqual({
      credentials: 'info',
      login: 'ok',
      'scope:RingSense': 'ok',
      'scope:SubscriptionWebhook': 'ok',
      'scope:AI': 'info',
      'permission:ReadRingSenseInsights': 'ok',
      database: 'ok',
      'public-url': 'info',
      handshake: 'ok',
      'notification-without-token': 'ok',
      'notification-with-token': 'ok',
      subscriptions: 'info',
    });
    expect(run.byName('public-url').summary).toContain('reachable by the local emulator only');
    // The receiver's handshake answer, byte for byte: status line, its three headers, Connection, no body.
    const handshake = run.byName('handshake');
    const expected =
      'HTTP/1.1 200 OK\r\nvalidation-token: 00000000-0000-0000-0000-000000000000\r\n' +
      'content-type: application/json\r\ncontent-length: 0\r\nConnection: close\r\n\r\n';
    expect(handshake.details).toMatchObject({ status: 200, totalBytes: Buffer.byteLength(expected) });
    expect(handshake.details!.elapsedMs).toBeLessThan(1000);

    const requests = await harness.store.listRequests({ limit: 10 });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ kind: 'subscription' });
    // The accepted probe is stored, but as no event: handlers and forwards never see it.
    const stored = await waitFor(async () => {
      const listed = await harness.store.listDeliveries(requests[0]!.requestId);
      return listed.length === 1 && listed[0]!.parseState !== 'pending' && listed;
    });
    expect(stored[0]!.body.toString()).toContain(DOCTOR_EVENT);
    expect(await harness.store.listEvents({ requestId: requests[0]!.requestId })).toEqual([]);
  });

  it('takes the URL a running serve recorded, and prints one line per check with a summary', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    await advertiseServer(harness.store, { publicUrl: harness.baseUrl, pathPrefix: '/webhooks' });
    const run = await doctor(['--db', harness.dbPath], { RC_SERVER_URL: base });
    expect(run.code, run.text).toBe(0);
    expect(lineOf(run.text, 'public-url')).toMatch(
      new RegExp(
        `^info\\s+public-url\\s+${harness.baseUrl}/webhooks \\(recorded by jobhook serve, pid ${process.pid}\\)`,
      ),
    );
    expect(lineOf(run.text, 'handshake')).toMatch(/^ok\s+handshake\s+200, token echoed in \d+ ms, \d+ bytes$/);
    expect(lineOf(run.text, 'notification-without-token')).toMatch(/^ok\s+.*refused with 403/);
    expect(run.text).not.toMatch(/FAIL|fix:/);
    expect(run.text.trimEnd().split('\n').at(-1)).toBe('all checks passed');
  });
});

describe('receivers that would fail the subscription create', () => {
  it('SUB-520: a server that answers 200 without echoing the token (and accepts anything)', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const url = await plainServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end());
    const run = await doctor(['--db', harness.dbPath, '--public-url', url], { RC_SERVER_URL: base });
    expect(run.code).toBe(2);
    expect(lineOf(run.text, 'handshake')).toMatch(
      /^FAIL\s+handshake\s+SUB-520: answered 200 without the Validation-Token header/,
    );
    expect(run.text).toMatch(/^\s+fix: answer the handshake .* copying that header unchanged/m);
    expect(lineOf(run.text, 'notification-without-token')).toMatch(/^FAIL\s+.*answered 200, not 403/);
    expect(run.text).toMatch(/problems?.*: see the fix lines above\n$/);
  });

  it('SUB-525: a 2 KB answer, even with the token echoed; a 1024-byte answer on the wire passes, 1025 does not', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const big = await plainServer((req, res) =>
      res.writeHead(200, { 'validation-token': String(req.headers['validation-token']) }).end('x'.repeat(2048)),
    );
    const run = await doctor(['--db', harness.dbPath, '--public-url', big, '--json'], { RC_SERVER_URL: base });
    expect(run.code).toBe(2);
    expect(run.byName('handshake')).toMatchObject({ status: 'fail', code: 'SUB-525' });
    expect(run.byName('handshake').summary).toMatch(
      /^the answer is \d+ bytes \(head \d+, body 2048\), over the 1024-byte limit/,
    );

    // A raw server whose whole answer (status line, headers, body) is exactly `total` bytes.
    const exact = async (total: number): Promise<string> => {
      const server: TcpServer = createTcpServer((socket) => {
        let head = '';
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          if (head.includes('\r\n\r\n')) return; // answered already
          head += chunk.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          const token = /validation-token: (\S+)/i.exec(head)?.[1] ?? 'none';
          // A padding header takes up whatever the status line, the echo and an empty body leave.
          const answer = (pad: string) =>
            `HTTP/1.1 200 OK\r\nValidation-Token: ${token}\r\nContent-Length: 0\r\nX-Pad: ${pad}\r\n\r\n`;
          const bytes = answer('p'.repeat(total - Buffer.byteLength(answer(''))));
          expect(Buffer.byteLength(bytes)).toBe(total);
          socket.end(bytes);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const at1024 = await doctor(['--db', harness.dbPath, '--public-url', await exact(1024), '--json'], {
      RC_SERVER_URL: base,
    });
    expect(at1024.byName('handshake')).toMatchObject({ status: 'ok', details: { totalBytes: 1024 } });
    const at1025 = await doctor(['--db', harness.dbPath, '--public-url', await exact(1025), '--json'], {
      RC_SERVER_URL: base,
    });
    expect(at1025.byName('handshake')).toMatchObject({
      status: 'fail',
      code: 'SUB-525',
      details: { totalBytes: 1025 },
    });
  });

  it('SUB-521: nothing listening, or no answer in time; a slow answer is a warning with the time', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const run = await doctor(['--db', harness.dbPath, '--public-url', nowhere], { RC_SERVER_URL: base });
    expect(run.code).toBe(2);
    expect(lineOf(run.text, 'handshake')).toMatch(
      /^FAIL\s+handshake\s+SUB-521: 127\.0\.0\.1:\d+ is not reachable: connect ECONNREFUSED/,
    );
    expect(run.text).toMatch(/fix: nothing answers on 127\.0\.0\.1:\d+: start jobhook serve/);
    expect(lineOf(run.text, 'notification-with-token')).toMatch(/^skip\s+.*the handshake got no answer/);

    const slow = await plainServer((req, res) =>
      setTimeout(() => res.writeHead(200, { 'validation-token': String(req.headers['validation-token']) }).end(), 200),
    );
    const limits = { answerTimeoutMs: 1000, warnAboveMs: 100 };
    const warned = await doctor(
      ['--db', harness.dbPath, '--public-url', slow, '--json'],
      { RC_SERVER_URL: base },
      { limits },
    );
    expect(warned.byName('handshake')).toMatchObject({ status: 'warn' });
    expect(warned.byName('handshake').summary).toMatch(
      /^200, token echoed, but in (\d{3,}) ms \(RingCentral allows 1000 ms/,
    );
    const late = await doctor(
      ['--db', harness.dbPath, '--public-url', slow, '--json'],
      { RC_SERVER_URL: base },
      {
        limits: { answerTimeoutMs: 100 },
      },
    );
    expect(late.byName('handshake')).toMatchObject({
      status: 'fail',
      code: 'SUB-521',
      summary: 'no complete answer within 100 ms',
    });
  });

  it('SUB-524: an https address whose certificate does not verify (self-signed here)', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const fixture = (name: string) => readFileSync(new URL(`../fixtures/doctor/${name}`, import.meta.url));
    const server = createHttpsServer(
      { key: fixture('self-signed.key'), cert: fixture('self-signed.crt') },
      (req, res) => res.writeHead(200, { 'validation-token': String(req.headers['validation-token']) }).end(),
    );
    const { port } = await listenOn(server, 0, '127.0.0.1');
    closers.push(() => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())));
    const run = await doctor(['--db', harness.dbPath, '--public-url', `https://127.0.0.1:${port}`, '--json'], {
      RC_SERVER_URL: base,
    });
    expect(run.code).toBe(2);
    expect(run.byName('handshake')).toMatchObject({ status: 'fail', code: 'SUB-524' });
    expect(run.byName('handshake').summary).toMatch(/^the TLS handshake with 127\.0\.0\.1:\d+ failed: .*self.signed/i);
    expect(run.byName('handshake').fix).toMatch(/whole certificate chain/);
  });

  it('an https URL in front of a plain-HTTP receiver is "no TLS" (SUB-521), not a certificate problem (outside tester)', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const run = await doctor(
      ['--db', harness.dbPath, '--public-url', harness.baseUrl.replace('http:', 'https:'), '--json'],
      { RC_SERVER_URL: base },
    );
    expect(run.code).toBe(2);
    expect(run.byName('handshake')).toMatchObject({ status: 'fail', code: 'SUB-521' });
    expect(run.byName('handshake').summary).toMatch(/does not speak TLS/);
    expect(run.byName('handshake').fix).toMatch(/needs TLS in front of serve/);
  });

  it('a jobhook receiver on another database refuses the URL (404): named, with the fix', async () => {
    const { base } = await emulator();
    const other = await receiver();
    const harness = await receiver();
    const run = await doctor(['--db', harness.dbPath, '--public-url', other.baseUrl, '--json'], {
      RC_SERVER_URL: base,
    });
    expect(run.code).toBe(2);
    expect(run.byName('handshake')).toMatchObject({ status: 'fail', code: 'SUB-525' });
    expect(run.byName('handshake').summary).toContain('not the jobhook serve using this --db');
  });
});

describe('the platform side', () => {
  it('names a missing app scope and a missing user permission, each with its fix', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const taken = await fetch(`${base}/_emulator/authz`, {
      method: 'POST',
      body: JSON.stringify({ scopes: ['SubscriptionWebhook'], permissions: [] }),
    });
    expect(taken.status).toBe(200);
    const run = await doctor(['--db', harness.dbPath, '--public-url', harness.baseUrl], { RC_SERVER_URL: base });
    expect(run.code).toBe(2);
    expect(lineOf(run.text, 'scope:RingSense')).toMatch(/^FAIL\s+scope:RingSense\s+missing: no ACE insights events/);
    expect(run.text).toContain('fix: add "RingSense" to the app\'s permissions in the Developer Console');
    expect(lineOf(run.text, 'scope:SubscriptionWebhook')).toMatch(/^ok\s/);
    expect(lineOf(run.text, 'scope:AI')).toMatch(
      /^info\s+scope:AI\s+not granted: AI API jobs \(closed to new apps since 2026-04-28\)/,
    );
    expect(lineOf(run.text, 'permission:ReadRingSenseInsights')).toMatch(
      /^FAIL\s+permission:ReadRingSenseInsights\s+the user lacks "AI Conversation Expert - Access Insights"/,
    );
    // The URL checks still ran: the receiver is fine.
    expect(lineOf(run.text, 'handshake')).toMatch(/^ok\s/);
  });

  it("names a refused login with the platform's code (OAU-146 for a wrong secret) and skips what needs it", async () => {
    const { base } = await emulator({ strictClient: { clientId: 'right-id', clientSecret: 'right-secret' } });
    const harness = await receiver();
    const env = {
      RC_SERVER_URL: base,
      RC_APP_CLIENT_ID: 'right-id',
      RC_APP_CLIENT_SECRET: 'wrong',
      RC_USER_JWT: fakeJwt(),
    };
    const run = await doctor(['--db', harness.dbPath, '--public-url', harness.baseUrl, '--json'], env);
    expect(run.code).toBe(2);
    expect(run.byName('credentials')).toMatchObject({ status: 'ok' });
    expect(run.byName('login')).toMatchObject({ status: 'fail', code: 'OAU-146' });
    expect(run.byName('login').summary).toMatch(
      /^the platform refused the JWT login \(401\): Invalid client credentials/,
    );
    expect(run.byName('login').fix).toMatch(/^RC_APP_CLIENT_ID \/ RC_APP_CLIENT_SECRET are not this app's/);
    expect(run.byName('scope:RingSense')).toMatchObject({ status: 'skip' });

    const good = await doctor(['--db', harness.dbPath, '--public-url', harness.baseUrl, '--json'], {
      ...env,
      RC_APP_CLIENT_SECRET: 'right-secret',
    });
    expect(good.code, JSON.stringify(good.checks)).toBe(0);
    expect(good.byName('credentials').summary).toMatch(new RegExp(`^set for ${base} \\(client right-…\\)`));
  });

  it('reports incomplete or malformed credentials, an expired JWT, and an unreachable platform (exit 6)', async () => {
    const harness = await receiver();
    const args = ['--db', harness.dbPath, '--public-url', harness.baseUrl, '--json'];
    const partial = await doctor(args, { RC_APP_CLIENT_ID: 'id' });
    expect(partial.code).toBe(2);
    expect(partial.byName('credentials')).toMatchObject({ status: 'fail' });
    expect(partial.byName('credentials').summary).toMatch(/credentials are incomplete: RC_SERVER_URL.* not set/);
    expect(partial.byName('login')).toMatchObject({ status: 'skip' });

    const full = {
      RC_SERVER_URL: 'https://platform.ringcentral.com',
      RC_APP_CLIENT_ID: 'id',
      RC_APP_CLIENT_SECRET: 's',
    };
    const malformed = await doctor(args, { ...full, RC_USER_JWT: 'not-a-jwt' });
    expect(malformed.byName('credentials').summary).toMatch(/RC_USER_JWT is not a JWT/);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const expired = `${part({ alg: 'RS256' })}.${part({ sub: '1', exp: 1_700_000_000 })}.c2ln`;
    const old = await doctor(args, { ...full, RC_USER_JWT: expired });
    expect(old.byName('credentials')).toMatchObject({
      status: 'fail',
      summary: 'RC_USER_JWT expired on 2023-11-14T22:13:20.000Z',
    });

    const down = await doctor(args, { RC_SERVER_URL: `http://127.0.0.1:${await freePort()}` });
    expect(down.code).toBe(6);
    expect(down.byName('login')).toMatchObject({ status: 'fail' });
    expect(down.byName('login').summary).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(down.byName('login').fix).toMatch(/start the local emulator/);
  });

  it('with a remote platform: a loopback public URL is SUB-521, a plain-http one SUB-523 (a warning)', async () => {
    const harness = await receiver();
    // 0.0.0.0 is no loopback name, so doctor takes it for a remote address; Linux connects it to this machine.
    const env = {
      RC_SERVER_URL: `http://0.0.0.0:${await freePort()}`,
      RC_APP_CLIENT_ID: 'id',
      RC_APP_CLIENT_SECRET: 's',
      RC_USER_JWT: fakeJwt(),
    };
    const run = await doctor(['--db', harness.dbPath, '--public-url', harness.baseUrl, '--json'], env);
    expect(run.code).toBe(6); // the first problem: no platform to log in to
    expect(run.byName('public-url')).toMatchObject({ status: 'fail', code: 'SUB-521' });
    expect(run.byName('public-url').summary).toMatch(/a loopback address, which RingCentral cannot reach/);
    expect(run.byName('public-url').fix).toMatch(/--tunnel ngrok/);

    const port = new URL(harness.baseUrl).port;
    const plain = await doctor(['--db', harness.dbPath, '--public-url', `http://0.0.0.0:${port}`, '--json'], env);
    expect(plain.byName('public-url')).toMatchObject({ status: 'warn', code: 'SUB-523' });
    expect(plain.byName('public-url').fix).toMatch(/production requires https/);
    expect(plain.byName('handshake')).toMatchObject({ status: 'ok' });
  });
});

describe('the database and its subscriptions', () => {
  it('names subscriptions that are blacklisted, expiring, disabled or never created; a healthy one is ok', async () => {
    const { base } = await emulator();
    const harness = await receiver();
    const now = Date.parse('2026-12-01T12:00:00Z');
    const kept = (name: string, over: object) =>
      harness.store.saveSubscription({
        name,
        requestId: `00000000-0000-4000-8000-00000000000${name.length}`,
        eventFilters: ['/ai/ringsense/v1/public/accounts/~/domains/pbx/insights'],
        expiresIn: 315_360_000,
        platformId: `platform-${name}`,
        address: `${harness.baseUrl}/webhooks/x`,
        status: 'Active',
        expiresAt: '2027-12-01T12:00:00.000Z',
        disabledFilters: [],
        blacklistedData: null,
        lastError: null,
        checkedAt: null,
        ...over,
      });
    await kept('healthy', {});
    await kept('blacklisted', {
      status: 'Blacklisted',
      blacklistedData: { blacklistedAt: '2026-11-30T10:00:00Z', reason: 'Webhook responses with code: [404]' },
    });
    await kept('soon', { expiresAt: '2026-12-01T17:00:00.000Z' });
    await kept('gone', { expiresAt: '2026-11-30T12:00:00.000Z' });
    await kept('disabled', {
      disabledFilters: [{ filter: '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights', reason: 'Permission' }],
    });
    await kept('never', { platformId: null, status: 'Failed', lastError: 'SUB-521 WebHook is not reachable' });
    const run = await doctor(
      ['--db', harness.dbPath, '--public-url', harness.baseUrl],
      { RC_SERVER_URL: base },
      {
        now: () => now,
      },
    );
    expect(run.code).toBe(2);
    expect(lineOf(run.text, 'subscription:healthy')).toMatch(
      /^ok\s+subscription:healthy\s+Active, expires in 365 d, no event yet$/,
    );
    expect(lineOf(run.text, 'subscription:blacklisted')).toMatch(
      /^FAIL\s+subscription:blacklisted\s+Blacklisted since 2026-11-30T10:00:00Z: Webhook responses with code: \[404\]/,
    );
    expect(lineOf(run.text, 'subscription:soon')).toMatch(/^FAIL\s+subscription:soon\s+expires in 5 h/);
    expect(lineOf(run.text, 'subscription:gone')).toMatch(/^FAIL\s+subscription:gone\s+expired 24 h ago/);
    expect(lineOf(run.text, 'subscription:disabled')).toMatch(
      /^FAIL\s+subscription:disabled\s+disabled filters, no events for them: \/ai\/ringsense\S+ \(Permission\)/,
    );
    expect(lineOf(run.text, 'subscription:never')).toMatch(
      /^FAIL\s+subscription:never\s+not created on the platform: SUB-521/,
    );
  });

  it('never creates a database: without one, the URL checks say which --db to pass', async () => {
    const { base } = await emulator();
    const missing = tempDbPath();
    const run = await doctor(['--db', missing, '--public-url', 'http://127.0.0.1:9', '--json'], {
      RC_SERVER_URL: base,
    });
    expect(run.code).toBe(2);
    expect(run.byName('public-url')).toMatchObject({ status: 'fail' });
    expect(run.byName('public-url').summary).toMatch(/^no jobhook database at /);
    expect(run.byName('subscriptions')).toMatchObject({ status: 'skip' });
    expect(existsSync(missing)).toBe(false);

    // A database but no running serve and no --public-url: nothing to check the URL of.
    const harness = await receiver();
    const none = await doctor(['--db', harness.dbPath, '--json'], { RC_SERVER_URL: base });
    expect(none.byName('public-url').summary).toMatch(/^no public URL: no jobhook serve recorded one/);
    expect(none.byName('handshake')).toMatchObject({ status: 'skip' });
  });
});
