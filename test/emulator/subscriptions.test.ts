import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { SDK } from '@ringcentral/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOn } from '../../src/http-listen.js';
import type { EmulatorConfig } from '../../src/emulator/options.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * The subscription API through the official SDK, against receivers on 127.0.0.1 that answer the
 * validation handshake well or badly (reference §2–5, §9).
 */
type Mode = 'echo' | 'no-echo' | 'big' | 'slow';

interface Receiver {
  url: string;
  mode: Mode;
  handshakes: IncomingHttpHeaders[];
  notifications: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function startReceiver(mode: Mode = 'echo'): Promise<Receiver> {
  const receiver = { mode, handshakes: [], notifications: [] } as unknown as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const token = req.headers['validation-token'];
      if (typeof token === 'string' && body === '') {
        receiver.handshakes.push(req.headers);
        const m = receiver.mode;
        if (m === 'slow') return void setTimeout(() => res.writeHead(200, { 'validation-token': token }).end(), 600);
        if (m === 'no-echo') return void res.writeHead(200, { 'content-type': 'application/json' }).end();
        if (m === 'big') return void res.writeHead(200, { 'validation-token': token }).end('x'.repeat(1100));
        return void res.writeHead(200, { 'validation-token': token, 'content-type': 'application/json' }).end();
      }
      receiver.notifications.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(200).end();
    });
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

let emulator: Emulator | undefined;
const receivers: Receiver[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function setup(config: EmulatorConfig = {}, mode: Mode = 'echo') {
  emulator = createEmulator(config);
  const server = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const platform = new SDK({ server, clientId: 'client-id', clientSecret: 'client-secret' }).platform();
  await platform.login({ jwt: fakeJwt() });
  const receiver = await startReceiver(mode);
  receivers.push(receiver);
  return { server, platform, receiver };
}

const ACE_PBX = '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights';

function createBody(address: string, extra: Record<string, unknown> = {}) {
  return {
    eventFilters: [ACE_PBX],
    deliveryMode: { transportType: 'WebHook', address, verificationToken: 'secret-token' },
    expiresIn: 3600,
    ...extra,
  };
}

/** The platform error an SDK call was refused with: `{status, errorCode}`. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; errorCode: string }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: Response }).response;
    const body = (await response!.clone().json()) as { errorCode: string };
    return { status: response!.status, errorCode: body.errorCode };
  }
  throw new Error('the call was not refused');
}

describe('emulated subscription API, through @ringcentral/sdk', () => {
  it('creates a WebHook subscription after a handshake that the receiver echoes', async () => {
    const { platform, receiver } = await setup();
    const response = await platform.post('/restapi/v1.0/subscription', createBody(receiver.url));
    expect(response.status).toBe(200);
    const info = (await response.json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'Active',
      expiresIn: expect.any(Number),
      disabledFilters: [],
      deliveryMode: { transportType: 'WebHook', address: receiver.url, encryption: false },
    });
    expect(info.expiresIn).toBeGreaterThan(3590);
    expect(info.expiresIn).toBeLessThanOrEqual(3600);
    // `~` is resolved to the account; the token is not echoed back.
    expect((info.eventFilters as string[])[0]).toMatch(
      /^\/ai\/ringsense\/v1\/public\/accounts\/\d+\/domains\/pbx\/insights$/,
    );
    expect(JSON.stringify(info)).not.toContain('secret-token');
    expect(receiver.handshakes).toHaveLength(1);
    expect(receiver.handshakes[0]).toMatchObject({
      'content-length': '0',
      'verification-token': 'secret-token',
      'validation-token': expect.any(String),
    });
  });

  it('refuses with SUB-520 when the token is not echoed, SUB-525 over 1 KB, CMN-101 on a slow answer, SUB-521 unreachable', async () => {
    const { platform, receiver } = await setup({ subscriptions: { handshakeTimeoutMs: 300 } }, 'no-echo');
    const post = () => platform.post('/restapi/v1.0/subscription', createBody(receiver.url));
    expect(await refusal(post())).toEqual({ status: 400, errorCode: 'SUB-520' });
    receiver.mode = 'big';
    expect(await refusal(post())).toEqual({ status: 400, errorCode: 'SUB-525' });
    receiver.mode = 'slow';
    expect(await refusal(post())).toEqual({ status: 400, errorCode: 'CMN-101' });
    await receiver.close();
    expect(await refusal(post())).toEqual({ status: 400, errorCode: 'SUB-521' });
    receivers.length = 0;
    const list = (await (await platform.get('/restapi/v1.0/subscription')).json()) as { records: unknown[] };
    expect(list.records).toEqual([]);
  });

  it('validates the body: expiresIn inside deliveryMode is ignored (7 days), too large is clamped, bad filters refused', async () => {
    const { platform, receiver } = await setup();
    const misplaced = createBody(receiver.url, { expiresIn: undefined });
    (misplaced.deliveryMode as Record<string, unknown>).expiresIn = 60;
    const a = (await (await platform.post('/restapi/v1.0/subscription', misplaced)).json()) as { expiresIn: number };
    expect(a.expiresIn).toBeGreaterThan(604_790);
    const b = (await (
      await platform.post('/restapi/v1.0/subscription', createBody(receiver.url, { expiresIn: 473_040_000 }))
    ).json()) as { expiresIn: number };
    expect(b.expiresIn).toBeLessThanOrEqual(315_360_000);
    expect(b.expiresIn).toBeGreaterThan(315_359_000);
    const wrongDomain = createBody(receiver.url, {
      eventFilters: ['/ai/ringsense/v1/public/accounts/~/domains/phone/insights'],
    });
    expect(await refusal(platform.post('/restapi/v1.0/subscription', wrongDomain))).toEqual({
      status: 400,
      errorCode: 'SUB-508',
    });
    const badReminder = createBody(receiver.url, {
      eventFilters: [ACE_PBX, '/restapi/v1.0/subscription/~?threshold=3000&interval=15'],
    });
    expect(await refusal(platform.post('/restapi/v1.0/subscription', badReminder))).toEqual({
      status: 400,
      errorCode: 'SUB-516',
    });
    const noAddress = { eventFilters: [ACE_PBX], deliveryMode: { transportType: 'WebHook' } };
    expect(await refusal(platform.post('/restapi/v1.0/subscription', noAddress))).toEqual({
      status: 400,
      errorCode: 'CMN-101',
    });
  });

  it('allows 30 subscriptions per user; the 31st is refused with SUB-505', async () => {
    const { platform, receiver } = await setup();
    for (let i = 0; i < 30; i++) {
      expect((await platform.post('/restapi/v1.0/subscription', createBody(receiver.url))).status).toBe(200);
    }
    expect(await refusal(platform.post('/restapi/v1.0/subscription', createBody(receiver.url)))).toEqual({
      status: 403,
      errorCode: 'SUB-505',
    });
  });

  it('lists, gets, updates, renews and deletes; renewing an expired subscription answers 404', async () => {
    const { platform, receiver } = await setup();
    const created = (await (await platform.post('/restapi/v1.0/subscription', createBody(receiver.url))).json()) as {
      id: string;
    };
    const path = `/restapi/v1.0/subscription/${created.id}`;
    const list = (await (await platform.get('/restapi/v1.0/subscription')).json()) as { records: { id: string }[] };
    expect(list.records.map((r) => r.id)).toEqual([created.id]);
    expect(await (await platform.get(path)).json()).toMatchObject({ id: created.id, status: 'Active' });

    const rcx = '/ai/ringsense/v1/public/accounts/~/domains/rcx/insights';
    const updated = (await (await platform.put(path, { eventFilters: [ACE_PBX, rcx], expiresIn: 7200 })).json()) as {
      eventFilters: string[];
      expiresIn: number;
    };
    expect(updated.eventFilters).toHaveLength(2);
    expect(updated.expiresIn).toBeGreaterThan(7190);
    expect(receiver.handshakes).toHaveLength(2); // new filters: the address is validated again

    const renewed = (await (await platform.post(`${path}/renew`)).json()) as { expiresIn: number };
    expect(renewed.expiresIn).toBeGreaterThan(7190);
    expect((await platform.delete(path)).status).toBe(204);
    expect(await refusal(platform.get(path))).toEqual({ status: 404, errorCode: 'CMN-102' });

    const short = (await (
      await platform.post('/restapi/v1.0/subscription', createBody(receiver.url, { expiresIn: 1 }))
    ).json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await refusal(platform.post(`/restapi/v1.0/subscription/${short.id}/renew`))).toEqual({
      status: 404,
      errorCode: 'CMN-102',
    });
    const after = (await (await platform.get('/restapi/v1.0/subscription')).json()) as { records: unknown[] };
    expect(after.records).toEqual([]);
  });

  it('sends renewal reminders inside the threshold, the literal filter as event and expiresIn in the body', async () => {
    const { platform, receiver } = await setup({ subscriptions: { reminderPeriodMs: 100 } });
    const reminder = '/restapi/v1.0/subscription/~?threshold=2&interval=1';
    const created = (await (
      await platform.post(
        '/restapi/v1.0/subscription',
        createBody(receiver.url, { eventFilters: [ACE_PBX, reminder], expiresIn: 4 }),
      )
    ).json()) as { id: string };
    const deadline = Date.now() + 5000;
    while (receiver.notifications.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(receiver.notifications.length).toBeGreaterThanOrEqual(2);
    const [first] = receiver.notifications;
    expect(first!.headers['verification-token']).toBe('secret-token');
    expect(first!.body).toMatchObject({
      event: reminder,
      subscriptionId: created.id,
      body: { expiresIn: expect.any(Number) },
    });
    expect((first!.body.body as { expiresIn: number }).expiresIn).toBeLessThanOrEqual(2);
  });
});
