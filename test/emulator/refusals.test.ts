import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHarness } from '../helpers/emulator-client.js';
import { rawConnect } from '../helpers/raw-http.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

/** Input the emulator must refuse with 400 in the platform's error shape, never act on or answer 500. */
let h: EmulatorHarness;
let sink: WebhookSink;
afterEach(async () => {
  await h.close();
  await sink.close();
});

const PUNCTUATE = '/ai/text/v1/async/punctuate';
const STT = '/ai/audio/v1/async/speech-to-text';
const texts = { texts: ['hello how are you'] };
const audio = { contentUri: 'https://example.com/a.wav', encoding: 'Wav' };

async function platformErrorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { errors: { errorCode: string; message: string }[] };
  return { status: response.status, code: body.errors[0]!.errorCode, message: body.errors[0]!.message };
}

async function jobCount(): Promise<number> {
  const body = (await (await fetch(`${h.base}/_emulator/jobs`)).json()) as { jobs: unknown[] };
  return body.jobs.length;
}

describe('emulator refuses a webhook at its own listener', () => {
  it('refuses /_emulator/reset as a webhook at submit, and the jobs already there survive', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const kept = await h.submit(PUNCTUATE, texts, `?webhook=${encodeURIComponent(`${sink.url}/cb`)}`);
    expect(kept.status).toBe(202);
    const port = new URL(h.base).port;
    const refused = await h.submit(
      PUNCTUATE,
      texts,
      `?webhook=${encodeURIComponent(`http://127.0.0.1:${port}/_emulator/reset`)}&_emulator=latency=1ms`,
    );
    expect(await platformErrorOf(refused)).toMatchObject({ status: 400, code: 'CAI-101' });
    await sink.waitFor(1);
    // Before the fix the second job was accepted and its delivery POSTed to /_emulator/reset, wiping the first.
    expect(await jobCount()).toBe(1);
    expect((await h.status(((await kept.json()) as { jobId: string }).jobId)).status).toBe(200);
  });

  it('refuses every spelling of its own address on its port, raw or encoded, and accepts other ports', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const port = new URL(h.base).port;
    const selves = [
      `http://127.0.0.1:${port}/_emulator/reset`,
      `http://127.9.8.7:${port}/x`,
      `http://localhost:${port}/x`,
      `http://LOCALHOST.:${port}/x`,
      `http://app.localhost:${port}/x`,
      `http://[::1]:${port}/x`,
      `http://[::ffff:127.0.0.1]:${port}/x`,
      `http://0.0.0.0:${port}/x`,
      `http://2130706433:${port}/x`,
      `https://127.0.0.1:${port}/x`,
    ];
    for (const self of selves) {
      for (const query of [`?webhook=${encodeURIComponent(self)}`, `?webhook=${self}`]) {
        const response = await h.submit(PUNCTUATE, texts, query);
        expect(await platformErrorOf(response), query).toMatchObject({ status: 400, code: 'CAI-101' });
      }
    }
    expect(await jobCount()).toBe(0);
    // The co-hosted receiver of `jobhook dev` is on the same host, another port: still allowed.
    expect((await h.submit(PUNCTUATE, texts, `?webhook=${sink.url}/cb`)).status).toBe(202);
  });
});

describe('emulator bounds its size and fault parameters', () => {
  it('accepts duration up to 4 h and duplicate up to 5, refuses beyond with the allowed range', async () => {
    h = await startEmulator({ latency: { minMs: 60_000, maxMs: 60_000 } });
    sink = await startWebhookSink();
    const q = `?webhook=${encodeURIComponent(`${sink.url}/cb`)}`;
    for (const fault of ['duration=4h', 'duration=14400', 'large', 'duplicate=5', 'duplicate', 'duplicate=1']) {
      expect((await h.submit(STT, audio, `${q}&_emulator=${fault}`)).status, fault).toBe(202);
    }
    const refusals: [string, RegExp][] = [
      ['duration=4h1s', /duration.*4 h/],
      ['duration=100000', /duration.*4 h/],
      ['duration=soon', /duration.*4 h/],
      ['duplicate=6', /duplicate.*1 to 5/],
      ['duplicate=1000000', /duplicate.*1 to 5/],
      ['duplicate=0', /duplicate.*1 to 5/],
      ['duplicate=2.5', /duplicate.*1 to 5/],
    ];
    for (const [fault, message] of refusals) {
      const viaQuery = await platformErrorOf(await h.submit(STT, audio, `${q}&_emulator=${fault}`));
      expect(viaQuery, fault).toMatchObject({ status: 400, code: 'CAI-101', message: expect.stringMatching(message) });
      const viaHeader = await h.submit(STT, audio, q, { 'X-Emulator-Faults': fault });
      expect(viaHeader.status, fault).toBe(400);
    }
    expect(await jobCount()).toBe(6);
  });
});

describe('emulator answers malformed URLs with 400', () => {
  it('answers malformed percent-encoding in the path or the query with 400 in the platform shape', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const auth = { authorization: `Bearer ${h.token}` };
    const paths = ['/ai/status/v1/jobs/%E0%A4%A', '/ai/audio/v1/enrollments/%zz'];
    for (const path of paths) {
      expect(await platformErrorOf(await fetch(`${h.base}${path}`, { headers: auth })), path).toMatchObject({
        status: 400,
      });
    }
    for (const query of ['?webhook=%zz', '?webhook=http%3A%2F%2Fh%2Fcb%zz', '?webhook=https%3A%2F%2Fh%2F%E0%A4%A']) {
      expect(await platformErrorOf(await h.submit(PUNCTUATE, texts, query)), query).toMatchObject({
        status: 400,
        code: 'CAI-101',
      });
    }
  });

  it('answers a request target that is not a URL with 400, not 500', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const { socket, closed } = await rawConnect(Number(new URL(h.base).port));
    socket.end('GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('emulator refuses fault specs it cannot honour (tester report)', () => {
  it('refuses latency= and delay= above 1 h, and any fault it cannot read, with 400 CAI-101 on _emulator', async () => {
    h = await startEmulator({ latency: { minMs: 60_000, maxMs: 60_000 } });
    sink = await startWebhookSink();
    const q = `?webhook=${encodeURIComponent(`${sink.url}/cb`)}`;
    // 999999h used to overflow the delivery timer, so the "slow" job was delivered at once.
    const refusals: [string, RegExp][] = [
      ['latency=999999h', /latency.*up to 1 h/],
      ['delay=999999h', /delay.*up to 1 h/],
      ['latency=61m', /latency.*up to 1 h/],
      ['delay=soon', /delay.*up to 1 h/],
      ['latency', /latency.*up to 1 h/],
      ['%E0%A4%A', /unknown fault/],
      ['dorp', /unknown fault.*expected drop/],
      ['drop;laggy=2s', /unknown fault "laggy=2s"/],
      ['fail=maybe', /fail alone, fail=true or fail=false/],
      ['delay=1s=2s', /more than one '='/],
    ];
    for (const [fault, message] of refusals) {
      const refused = await platformErrorOf(await h.submit(STT, audio, `${q}&_emulator=${fault}`));
      expect(refused, fault).toMatchObject({ status: 400, code: 'CAI-101', message: expect.stringMatching(message) });
      const viaHeader = await h.submit(STT, audio, q, { 'X-Emulator-Faults': fault });
      expect(viaHeader.status, fault).toBe(400);
    }
    expect(await jobCount()).toBe(0);
    for (const fault of ['latency=1h', 'delay=3600s', 'drop=false', 'fail=true;delay=1s', 'drop;', 'large']) {
      expect((await h.submit(STT, audio, `${q}&_emulator=${fault}`)).status, fault).toBe(202);
    }
    expect(await jobCount()).toBe(6);
  });
});
