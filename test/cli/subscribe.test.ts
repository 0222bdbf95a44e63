import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { advertiseServer } from '../../src/cli/advertised-server.js';
import { subscribeCommand, subscriptionsCommand, unsubscribeCommand } from '../../src/cli/subscribe.js';
import { parseInvocation } from '../../src/config.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { awaitInsights } from '../../src/client/insights-waiter.js';
import { startHarness, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

/**
 * `jobhook subscribe`, `subscriptions` and `unsubscribe`, in-process against the emulator (the local
 * emulator's credentials: only RC_SERVER_URL set, on loopback) and a real receiver on the same database.
 */
let emulator: Emulator | undefined;
let harness: Harness | undefined;
let fake: Server | undefined;
afterEach(async () => {
  await emulator?.close();
  await harness?.close();
  await new Promise((resolve) => (fake ? fake.close(resolve) : resolve(undefined)));
  emulator = harness = fake = undefined;
});

function collect(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

interface Seen {
  id: string;
  status: string;
  expiresIn: number;
  eventFilters: string[];
  deliveryMode: { address: string };
}

async function setup(server?: string) {
  harness = await startHarness(tempDbPath());
  let base = server;
  if (!base) {
    emulator = createEmulator({ ace: { insightsDelayMs: 10, aiNotesGapMs: 20 } });
    base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  }
  const env = { RC_SERVER_URL: base };
  const run = async (argv: string[]) => {
    const { command, args, config } = parseInvocation([...argv, '--db', harness!.dbPath, '--log-level', 'silent'], env);
    const out = collect();
    const err = collect();
    const options = { env, err: err.out };
    const code =
      command === 'subscribe'
        ? await subscribeCommand(config, args, out.out, options)
        : command === 'unsubscribe'
          ? await unsubscribeCommand(config, args, out.out, options)
          : await subscriptionsCommand(config, out.out);
    return { code, stdout: out.text(), stderr: err.text() };
  };
  const onPlatform = async (): Promise<Seen[]> =>
    ((await (await fetch(`${base}/_emulator/subscriptions`)).json()) as { subscriptions: Seen[] }).subscriptions;
  return { base, run, onPlatform, harness };
}

describe('jobhook subscribe / subscriptions / unsubscribe', () => {
  it('subscribe ace: created at the running server’s URL with the maximum lifetime; listed; unsubscribed', async () => {
    const { run, onPlatform, harness: h, base } = await setup();
    // No --public-url: the URL the running server recorded, as `mint` does.
    await advertiseServer(h.store, { publicUrl: h.baseUrl, pathPrefix: '/webhooks' });
    const made = await run(['subscribe', 'ace', '--domains', 'pbx,rcv']);
    expect(made.code).toBe(0);
    expect(made.stderr).toBe('jobhook: no RC_* credentials; using the local emulator at ' + base + '\n');
    const [seen] = await onPlatform();
    expect(made.stdout).toContain(`subscribed ace: Active, platform id ${seen!.id}`);
    expect(seen!.deliveryMode.address.startsWith(`${h.baseUrl}/webhooks/`)).toBe(true);
    // The maximum (10 years), sent at the top level: the emulator would have applied 7 days otherwise.
    expect(seen!.expiresIn).toBeGreaterThan(315_360_000 - 60);
    const record = await h.store.findSubscription('ace');
    expect(record).toMatchObject({
      status: 'Active',
      platformId: seen!.id,
      expiresIn: 315_360_000,
      eventFilters: [
        '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights',
        '/ai/ringsense/v1/public/accounts/~/domains/rcv/insights',
      ],
    });

    // Events arrive at it (the handshake passed and the verification token is ours).
    const call = (await (
      await fetch(`${base}/_emulator/ace/calls`, { method: 'POST', body: JSON.stringify({ domain: 'rcv' }) })
    ).json()) as { sourceRecordId: string };
    await awaitInsights(h.store, { domain: 'rcv', ...call }, { timeoutMs: 5000 });

    const listed = await run(['subscriptions']);
    expect(listed.stdout).toMatch(new RegExp(`^ace\\s+Active\\s+${seen!.id}\\s+\\S+\\s+\\S+\\s+2$`, 'm'));
    expect(listed.stdout).toContain('filter    /ai/ringsense/v1/public/accounts/~/domains/rcv/insights');
    const json = JSON.parse((await run(['subscriptions', '--json'])).stdout) as {
      subscriptions: { name: string; lastEventAt: string | null }[];
    };
    expect(json.subscriptions.map((s) => s.name)).toEqual(['ace']);
    expect(json.subscriptions[0]!.lastEventAt).not.toBeNull();

    // The same name again is refused; --replace replaces it (the old one deleted first).
    await expect(run(['subscribe', 'ace', '--domains', 'pbx'])).rejects.toMatchObject({
      code: 'JH_ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('--replace'),
    });
    const replaced = await run(['subscribe', 'ace', '--domains', 'pbx', '--replace', '--expires-in', '2h']);
    expect(replaced.code).toBe(0);
    const now = await onPlatform();
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(seen!.id);
    expect(now[0]!.expiresIn).toBeGreaterThan(7100);
    expect(now[0]!.expiresIn).toBeLessThanOrEqual(7200);

    const gone = await run(['unsubscribe', 'ace']);
    expect(gone.stdout).toBe(`unsubscribed ace: deleted on the platform (${now[0]!.id})\n`);
    expect(await onPlatform()).toEqual([]);
    expect(await h.store.listSubscriptions()).toEqual([]);
    await expect(run(['unsubscribe', 'ace'])).rejects.toMatchObject({ code: 'JH_ERR_NOT_FOUND' });
    expect((await run(['subscriptions'])).stdout).toMatch(/^no subscriptions kept/);
  });

  it('--filter names it from the filters; a lifetime above the maximum is clamped, with a note', async () => {
    const { run, onPlatform, harness: h } = await setup();
    const made = await run([
      'subscribe',
      '--filter',
      '/restapi/v1.0/account/~/telephony/sessions',
      '--filter',
      '/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true',
      '--expires-in',
      '20y',
      '--public-url',
      h.baseUrl,
    ]);
    expect(made.stderr).toContain('above the maximum; asked for 315360000 s');
    const record = await h.store.findSubscription('telephony-sessions+presence');
    expect(record).toMatchObject({ status: 'Active', expiresIn: 315_360_000 });
    expect((await onPlatform())[0]!.eventFilters).toHaveLength(2);
  });

  it('usage errors name the fix before anything is created', async () => {
    const { run, onPlatform } = await setup();
    for (const [argv, text] of [
      [['subscribe', 'ace', '--domains', 'pbx,phone'], 'phone is not an ACE domain; use one or more of pbx, rcv, rcx'],
      [['subscribe'], 'no event filter given'],
      [['subscribe', 'ace', '--filter', '/x'], 'takes --domains, not --filter'],
      [['subscribe', '--filter', 'presence'], 'an event filter is a path'],
      [['subscribe', 'ace', '--name', 'a b'], 'is not a usable name'],
      [['unsubscribe'], 'usage: jobhook unsubscribe'],
    ] as const) {
      await expect(run([...argv]), argv.join(' ')).rejects.toMatchObject({
        code: 'JH_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining(text),
      });
    }
    expect(() => parseInvocation(['subscribe', 'ace', '--expires-in', 'soon'], {})).toThrow(/--expires-in/);
    expect(await onPlatform()).toEqual([]);
  });

  it('a refused create (SUB-521: nothing answers there) says what to do and stays listed as Failed', async () => {
    const { run, harness: h } = await setup();
    await expect(run(['subscribe', 'ace', '--public-url', 'http://127.0.0.1:9'])).rejects.toMatchObject({
      code: 'JH_ERR_API_REJECTED',
      errorCode: 'SUB-521',
      message: expect.stringMatching(/SUB-521.*start jobhook serve\/dev.*jobhook doctor/),
    });
    const record = await h.store.findSubscription('ace');
    expect(record).toMatchObject({ status: 'Failed', platformId: null });
    expect(record!.lastError).toContain('SUB-521');
    expect((await run(['subscriptions'])).stdout).toMatch(/^ace\s+Failed\s+-/m);
  });

  it('warns loudly about every filter the platform disabled (a missing RingSense scope)', async () => {
    // A platform stand-in that answers the create with disabledFilters, as the real one does.
    fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/restapi/oauth/token') {
          res.end(
            JSON.stringify({
              access_token: 't',
              token_type: 'bearer',
              expires_in: 3600,
              refresh_token: 'r',
              refresh_token_expires_in: 86400,
            }),
          );
          return;
        }
        const filter = '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights';
        res.end(
          JSON.stringify({
            id: 'sub-1',
            status: 'Active',
            eventFilters: [filter],
            disabledFilters: [{ filter, reason: 'Permission', message: 'Required application scope [RingSense]' }],
            expirationTime: '2036-01-01T00:00:00.000Z',
            expiresIn: 315_360_000,
            deliveryMode: { transportType: 'WebHook', address: 'http://x/webhooks/y/z', encryption: false },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => fake!.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as { port: number };
    const { run, harness: h } = await setup(`http://127.0.0.1:${port}`);
    const made = await run(['subscribe', 'ace', '--domains', 'pbx', '--public-url', h.baseUrl]);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(
      /WARNING: the platform disabled \/ai\/ringsense\/v1\/public\/accounts\/~\/domains\/pbx\/insights: Permission \(Required application scope \[RingSense\]\); its events will NOT arrive/,
    );
    expect((await run(['subscriptions'])).stdout).toContain(
      'DISABLED  /ai/ringsense/v1/public/accounts/~/domains/pbx/insights (Permission: Required application scope [RingSense])',
    );
  });
});
