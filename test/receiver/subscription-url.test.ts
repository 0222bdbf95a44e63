import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { verificationTokenFor } from '../../src/callback/verification-token.js';
import { createRefusalLog, type RefusalLog } from '../../src/receiver/refusals.js';
import { rawConnect } from '../helpers/raw-http.js';
import { indexedDeliveries, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

/**
 * The receiver on a URL minted for a push-notification subscription (issue #12): the handshake only for
 * `Validation-Token` with an empty body, every notification checked against the derived
 * `Verification-Token`, every answer empty and under RingCentral's 1024 bytes, measured on the socket.
 */
let harness: Harness;
let refusals: RefusalLog | undefined;
afterEach(async () => {
  await harness.close();
  refusals?.stop();
  refusals = undefined;
});

interface RawAnswer {
  /** Everything the server sent: status line, headers and body. */
  raw: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One POST over a fresh socket, `Connection: close`, so the answer is exactly what arrives before the close. */
async function rawPost(path: string, headers: Record<string, string>, body = ''): Promise<RawAnswer> {
  const { socket, closed } = await rawConnect(Number(new URL(harness.baseUrl).port));
  const head = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    'Content-Type: application/json; charset=UTF-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  const raw = await closed;
  const [top, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...headerLines] = top!.split('\r\n');
  return {
    raw,
    status: Number(statusLine!.split(' ')[1]),
    headers: Object.fromEntries(
      headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]),
    ),
    body: rest.join('\r\n\r\n'),
  };
}

function expectSmallEmptyAnswer(answer: RawAnswer): void {
  expect(answer.body).toBe('');
  expect(answer.headers['content-length']).toBe('0');
  expect(answer.headers.date).toBeUndefined();
  expect(Buffer.byteLength(answer.raw, 'latin1')).toBeLessThan(1024);
  // Far under, not just under: what RingCentral sees through a proxy grows by the proxy's own headers.
  expect(Buffer.byteLength(answer.raw, 'latin1')).toBeLessThan(256);
}

const EVENT = JSON.stringify({
  uuid: '4130446572007716222',
  event: '/ai/ringsense/v1/public/accounts/809646016/domains/pbx/insights',
  timestamp: '2025-01-08T10:00:00.000Z',
  subscriptionId: 'b7d4e3a0-0000-4000-8000-000000000001',
  ownerId: '809646016',
  body: { domain: 'pbx', sourceRecordId: 'rec-1', insights: {} },
});

describe('receiver on a subscription URL', () => {
  it('answers the handshake (Validation-Token, empty body) with the token echoed and stores nothing', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl, verificationToken } = await harness.mint({ kind: 'subscription' });
    const path = new URL(callbackUrl).pathname;
    // Without a Verification-Token (a subscription created without one), with the right one, with a wrong
    // one: the handshake is told apart by its shape only, and answered alike.
    const extras: Record<string, string>[] = [
      {},
      { 'Verification-Token': verificationToken },
      { 'Verification-Token': 'other' },
    ];
    for (const extra of extras) {
      const answer = await rawPost(path, { 'Validation-Token': 'e4f1c0de-handshake', ...extra });
      expect(answer.status).toBe(200);
      expect(answer.headers['validation-token']).toBe('e4f1c0de-handshake');
      expect(answer.headers['content-type']).toBe('application/json');
      expectSmallEmptyAnswer(answer);
    }
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(0);
    expect(harness.counts().deliveries).toBe(0);
    expect(harness.receiver.refusals.recent()).toEqual([]);
  });

  it('never echoes an oversized Validation-Token: every answer stays under 1 KB (outside tester)', async () => {
    harness = await startHarness(tempDbPath());
    const { callbackUrl } = await harness.mint({ kind: 'subscription' });
    const path = new URL(callbackUrl).pathname;
    const longest = await rawPost(path, { 'Validation-Token': 'v'.repeat(512) });
    expect(longest.status).toBe(200);
    expect(Buffer.byteLength(longest.raw, 'latin1')).toBeLessThan(1024);
    for (const size of [513, 1100, 15_000]) {
      const answer = await rawPost(path, { 'Validation-Token': 'v'.repeat(size) });
      expect(answer.status).toBe(400);
      expect(answer.headers['validation-token']).toBeUndefined();
      expectSmallEmptyAnswer(answer);
    }
  });

  it('stores a notification carrying its token once; a byte-identical redelivery folds into it', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl, verificationToken } = await harness.mint({ kind: 'subscription' });
    expect(verificationToken).toBe(verificationTokenFor(harness.keyring, requestId));
    const path = new URL(callbackUrl).pathname;
    for (let i = 0; i < 2; i++) {
      const answer = await rawPost(path, { 'Verification-Token': verificationToken }, EVENT);
      expect(answer.status).toBe(200);
      expectSmallEmptyAnswer(answer);
    }
    const deliveries = await indexedDeliveries(harness.store, requestId);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.count).toBe(2);
    expect(deliveries[0]!.body.toString()).toBe(EVENT);
    // A notification that also carries `Validation-Token` (the docs' HEAD spelling) is an event, not a handshake.
    const both = await rawPost(path, { 'Verification-Token': verificationToken, 'Validation-Token': 'x' }, '{"n":2}');
    expect(both.status).toBe(200);
    expect(both.headers['validation-token']).toBeUndefined();
    expect(await indexedDeliveries(harness.store, requestId)).toHaveLength(2);
    // The docs' HEAD spelling alone, holding the token, is taken too (reference §0).
    expect((await rawPost(path, { 'Validation-Token': verificationToken }, '{"n":3}')).status).toBe(200);
    expect(await indexedDeliveries(harness.store, requestId)).toHaveLength(3);
  });

  it('refuses a wrong or missing token with an empty 403, stores nothing and logs the refusal', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl, verificationToken } = await harness.mint({ kind: 'subscription' });
    const other = await harness.mint({ kind: 'subscription' });
    const path = new URL(callbackUrl).pathname;
    const attempts: [Record<string, string>, string][] = [
      [{}, 'verification-token-missing'],
      [{ 'Verification-Token': 'not-the-token' }, 'verification-token-mismatch'],
      // The token of another subscription of the same installation does not open this one.
      [{ 'Verification-Token': other.verificationToken }, 'verification-token-mismatch'],
      [{ 'Verification-Token': verificationToken.slice(0, -1) }, 'verification-token-mismatch'],
      // A body makes it a notification, whatever `Validation-Token` says.
      [{ 'Validation-Token': 'looks-like-a-handshake' }, 'verification-token-mismatch'],
    ];
    for (const [headers] of attempts) {
      const answer = await rawPost(path, headers, EVENT);
      expect(answer.status).toBe(403);
      expectSmallEmptyAnswer(answer);
    }
    expect(await harness.store.listDeliveries(requestId)).toHaveLength(0);
    expect(harness.counts().deliveries).toBe(0);
    const recent = harness.receiver.refusals.recent().reverse();
    expect(recent.map((r) => [r.reason, r.status])).toEqual(attempts.map(([, reason]) => [reason, 403]));
    // The path is shown without its tag, the URL's credential.
    expect(recent[0]!.path).toBe(`/webhooks/${requestId}/<tag>`);
    expect(harness.receiver.refusals.totals()).toEqual({
      'verification-token-missing': 1,
      'verification-token-mismatch': 4,
    });
  });

  it('counts refused notifications in the periodic summary with the reason and the fix', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    refusals = createRefusalLog({ logger: pino({ level: 'warn' }, sink), summaryEveryMs: 50 });
    harness = await startHarness(tempDbPath(), { refusals });
    const { callbackUrl } = await harness.mint({ kind: 'subscription' });
    const path = new URL(callbackUrl).pathname;
    expect((await rawPost(path, { 'Verification-Token': 'wrong' }, EVENT)).status).toBe(403);
    expect((await rawPost(path, { 'Verification-Token': 'wrong' }, EVENT)).status).toBe(403);
    const summary = await waitFor(() => lines.find((l) => typeof l.refused === 'object'));
    const reasons = summary.refused as Record<string, { count: number; example: string; hint: string }>;
    expect(reasons['verification-token-mismatch']).toMatchObject({ count: 2 });
    expect(reasons['verification-token-mismatch']!.hint).toMatch(/another token.*another installation's secret/);
    expect(summary.msg).toMatch(/^refused 2 webhook requests/);
  });

  it('leaves job URLs as they were: no token needed, the handshake still answered', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    const path = new URL(callbackUrl).pathname;
    const handshake = await rawPost(path, { 'Validation-Token': 'tok' });
    expect(handshake.status).toBe(200);
    expect(handshake.headers['validation-token']).toBe('tok');
    const answer = await rawPost(path, {}, '{"jobId":"j-1","status":"Success","response":{}}');
    expect(answer.status).toBe(200);
    // A job URL's answers keep their Date header: only subscription URLs trim theirs.
    expect(answer.headers.date).toBeDefined();
    expect(await indexedDeliveries(harness.store, requestId)).toHaveLength(1);
    expect(harness.receiver.refusals.recent()).toEqual([]);
  });
});
