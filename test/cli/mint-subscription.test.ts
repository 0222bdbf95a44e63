import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCli, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { post, waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * Subscription URLs and the emulator's subscription settings from the CLI (toward issue #12), as processes:
 * `jobhook mint --kind subscription` beside a running `serve`, and the subscription flags of `dev`/`emulate`
 * reaching the emulator a program talks to.
 */
let server: ServerProcess | undefined;
afterEach(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  server = undefined;
});

const ACE_PBX = '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights';
const EVENT = JSON.stringify({
  uuid: '4130446572007716222',
  event: '/ai/ringsense/v1/public/accounts/809646016/domains/pbx/insights',
  timestamp: '2025-01-08T10:00:00.000Z',
  subscriptionId: 'b7d4e3a0-0000-4000-8000-000000000001',
  ownerId: '809646016',
  body: { domain: 'pbx', sourceRecordId: 'rec-1', insights: {} },
});

interface Minted {
  requestId: string;
  callbackUrl: string;
  verificationToken?: string;
}

function mintJson(db: string, kind: string): Minted {
  const result = runCli(['mint', '--kind', kind, '--json', '--db', db]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Minted;
}

/** An access token from the emulator's JWT grant (any well-formed JWT logs in without --strict-client). */
async function login(base: string): Promise<string> {
  const response = await fetch(`${base}/restapi/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('id:secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: fakeJwt() }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function subscribe(
  base: string,
  token: string,
  address: string,
  verificationToken: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/restapi/v1.0/subscription`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      eventFilters: [ACE_PBX],
      deliveryMode: { transportType: 'WebHook', address, verificationToken },
      expiresIn: 3600,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('jobhook mint --kind subscription', () => {
  it('prints the URL alone on stdout and the token on stderr; the running receiver wants that token', async () => {
    const db = tempDbPath();
    server = await startServer(['--db', db]);
    const text = runCli(['mint', '--kind', 'subscription', '--db', db]);
    expect(text.status, text.stderr).toBe(0);
    // `URL=$(jobhook mint --kind subscription)` gets the URL and nothing else.
    expect(text.stdout).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.receiverPort}/webhooks/\\S+\\n$`));
    const token = /^verification token: ([\w-]{32})$/m.exec(text.stderr)?.[1];
    expect(token, text.stderr).toBeDefined();
    const url = text.stdout.trim();
    expect(await post(url, EVENT)).toBe(403);
    expect(await post(url, EVENT, { 'verification-token': 'not-the-token' })).toBe(403);
    expect(await post(url, EVENT, { 'verification-token': token! })).toBe(200);

    const json = mintJson(db, 'subscription');
    expect(Object.keys(json).sort()).toEqual(['callbackUrl', 'requestId', 'verificationToken']);
    // Each URL has a token of its own: the first one's does not open the second.
    expect(await post(json.callbackUrl, EVENT, { 'verification-token': token! })).toBe(403);
    expect(await post(json.callbackUrl, EVENT, { 'verification-token': json.verificationToken! })).toBe(200);

    // A job URL, as before: no token anywhere.
    const job = runCli(['mint', '--db', db, '--json']);
    expect(Object.keys(JSON.parse(job.stdout) as Minted).sort()).toEqual(['callbackUrl', 'requestId']);
    expect(job.stderr).not.toContain('verification token');
    expect(runCli(['mint', '--kind', 'job', '--db', db]).stdout).toMatch(/^http:\/\/\S+\n$/);
  });

  it('refuses an unknown kind with exit 2, naming the allowed ones', () => {
    for (const kind of ['webhook', 'Subscription', '']) {
      const result = runCli(['mint', '--kind', kind, '--db', tempDbPath()]);
      expect(result.status, kind).toBe(2);
      expect(result.stderr, kind).toContain('use job or subscription');
      expect(result.stdout, kind).toBe('');
    }
  });
});

describe("the emulator's subscription settings from the command line", () => {
  it('jobhook dev --subscription-limit 1: one subscription to a minted URL works, the second is SUB-505', async () => {
    const db = tempDbPath();
    server = await startServer(
      ['--db', db, '--emulator-port', '0', '--subscription-limit', '1', '--ace-delay', '50ms'],
      'dev',
    );
    const emulator = /emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(server.banner)![1]!;
    const token = await login(emulator);
    const first = mintJson(db, 'subscription');
    const created = await subscribe(emulator, token, first.callbackUrl, first.verificationToken!);
    expect(created, JSON.stringify(created.body)).toMatchObject({ status: 200, body: { status: 'Active' } });
    const second = mintJson(db, 'subscription');
    const refused = await subscribe(emulator, token, second.callbackUrl, second.verificationToken!);
    expect(refused).toMatchObject({ status: 403, body: { errorCode: 'SUB-505' } });

    // The one subscription delivers: a simulated call's insights reach the receiver, token checked, stored.
    const call = await fetch(`${emulator}/_emulator/ace/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ domain: 'pbx' }),
    });
    expect(call.status).toBe(201);
    await waitFor(async () => {
      const detail = await fetch(`http://127.0.0.1:${server!.localPort}/api/requests/${first.requestId}`);
      return ((await detail.json()) as { deliveries?: unknown[] }).deliveries?.length === 1;
    }, 10_000);
  });

  it('jobhook emulate takes every subscription flag; --subscription-limit 0 refuses the first create', async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'emulate',
        '--port',
        '0',
        ...['--subscription-limit', '0', '--blacklist-after', '3', '--notify-timeout', '1500ms'],
        ...['--notify-retries', '0', '--ace-delay', '200ms', '--reminder-period', '5s'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/settings\s+.*\n/.test(out)) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
      });
      const settings = JSON.parse(/settings\s+(.*)\n/.exec(banner)![1]!) as Record<string, unknown>;
      expect(settings).toEqual({
        subscriptions: {
          perUserLimit: 0,
          blacklistAfterFailures: 3,
          delivery: { retries: 0, backoffMs: 1000, attemptTimeoutMs: 1500 },
          reminderPeriodMs: 5000,
        },
        ace: { insightsDelayMs: 200 },
      });
      const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
      const refused = await subscribe(base, await login(base), 'http://127.0.0.1:9/hook', 'token');
      expect(refused).toMatchObject({ status: 403, body: { errorCode: 'SUB-505' } });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses bad values with exit 2, naming the flag', () => {
    const bad: [string, string][] = [
      ['--subscription-limit', '-1'],
      ['--subscription-limit', 'lots'],
      ['--blacklist-after', '0'],
      ['--notify-retries', '1.5'],
      ['--notify-timeout', '0'],
      ['--notify-timeout', 'soon'],
      ['--ace-delay', '999999h'],
      ['--reminder-period', '500ms'],
    ];
    for (const [flag, value] of bad) {
      for (const command of ['emulate', 'dev']) {
        const result = runCli([command, flag, value, '--port', '0', '--emulator-port', '0', '--db', tempDbPath()]);
        expect(result.status, `${command} ${flag} ${value}`).toBe(2);
        expect(result.stderr, `${command} ${flag} ${value}`).toContain(flag);
      }
    }
  });
});
