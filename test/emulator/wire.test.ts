import { afterEach, describe, expect, it } from 'vitest';
import { webhookParam } from '../../src/emulator/request-url.js';
import { startEmulator, type EmulatorHarness } from '../helpers/emulator-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

let h: EmulatorHarness;
let sink: WebhookSink;
afterEach(async () => {
  await h.close();
  await sink.close();
});

const STT = '/ai/audio/v1/async/speech-to-text';
const audio = { contentUri: 'https://example.com/a.wav', encoding: 'Wav' };

async function errorOf(
  response: Response,
): Promise<{ status: number; code: string; parameterName?: string; message: string }> {
  const body = (await response.json()) as { errors: { errorCode: string; parameterName?: string; message: string }[] };
  return {
    status: response.status,
    code: body.errors[0]!.errorCode,
    parameterName: body.errors[0]!.parameterName,
    message: body.errors[0]!.message,
  };
}

describe('emulator wire format', () => {
  it('answers invalid bodies with 400 and a message naming the field', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const q = `?webhook=${encodeURIComponent(sink.url)}`;
    const cases: [string, unknown, string][] = [
      [STT, { encoding: 'Wav' }, 'contentUri'],
      [STT, { contentUri: 'not a uri', encoding: 'Wav' }, 'contentUri'],
      [STT, { contentUri: 'https://x/a.wav' }, 'encoding'],
      [STT, { ...audio, encoding: 'Flac' }, 'encoding'],
      [STT, { ...audio, languageCode: 'fr-FR' }, 'languageCode'],
      [STT, { ...audio, content: 'UklGRg==' }, 'content'],
      [STT, { ...audio, enableSpeakerDiarization: 'yes' }, 'enableSpeakerDiarization'],
      ['/ai/text/v1/async/punctuate', { texts: 'hello' }, 'texts'],
      ['/ai/text/v1/async/summarize', { utterances: [{ text: 'x' }] }, 'summaryType'],
      ['/ai/text/v1/async/summarize', { summaryType: 'Extractive', utterances: [{ start: 1 }] }, 'utterances'],
      ['/ai/insights/v1/async/analyze-interaction', { ...audio, insights: ['Mood'] }, 'insights'],
      ['/ai/audio/v1/async/speaker-identify', audio, 'speakerIds'],
    ];
    for (const [path, body, field] of cases) {
      const error = await errorOf(await h.submit(path, body, q));
      expect(error, `${path} ${JSON.stringify(body)}`).toMatchObject({
        status: 400,
        code: 'CAI-101',
        parameterName: field,
      });
      expect(error.message).toContain(`[${field}]`);
    }
    expect(await errorOf(await h.submit(STT, audio))).toMatchObject({ status: 400, parameterName: 'webhook' });
    expect(await errorOf(await h.submit(STT, '{oops', q))).toMatchObject({ status: 400, code: 'CMN-103' });
  });

  it('requires a valid Bearer token (401 with the platform error body)', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const response = await fetch(`${h.base}${STT}?webhook=${sink.url}`, {
      method: 'POST',
      body: JSON.stringify(audio),
    });
    expect(await errorOf(response)).toMatchObject({ status: 401, code: 'OAU-134' });
    const bad = await fetch(`${h.base}/ai/status/v1/jobs/x`, { headers: { authorization: 'Bearer nope' } });
    expect(await errorOf(bad)).toMatchObject({ status: 401, code: 'OAU-129' });
  });

  it('checks client credentials in strict mode and rejects malformed JWTs', async () => {
    h = await startEmulator({ strictClient: { clientId: 'right', clientSecret: 'secret' } });
    sink = await startWebhookSink();
    const token = (auth: string, assertion: string) =>
      fetch(`${h.base}/restapi/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      });
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';
    expect((await token('wrong:secret', jwt)).status).toBe(401);
    expect((await token('right:secret', 'not-a-jwt')).status).toBe(400);
    const ok = await token('right:secret', jwt);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      token_type: 'bearer',
      expires_in: 3600,
      scope: 'AI RingSense SubscriptionWebhook',
      refresh_token: expect.any(String),
    });
  });

  it('shows InProgress on the status endpoint, then the full envelope; 404 for unknown jobs', async () => {
    h = await startEmulator({ latency: { minMs: 300, maxMs: 300 } });
    sink = await startWebhookSink();
    const { jobId } = (await (await h.submit(STT, audio, `?webhook=${sink.url}`)).json()) as { jobId: string };
    expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const pending = (await (await h.status(jobId)).json()) as Record<string, unknown>;
    expect(pending).toMatchObject({ jobId, api: STT, status: 'InProgress' });
    expect(pending).not.toHaveProperty('response');
    expect(pending).not.toHaveProperty('completionTime');
    await sink.waitFor(1);
    const done = (await (await h.status(jobId)).json()) as Record<string, unknown>;
    expect(done).toMatchObject({ jobId, status: 'Success', response: expect.any(Object) });
    expect(JSON.parse(sink.received[0]!.body)).toEqual(done);
    expect(Date.parse(done.expirationTime as string) - Date.parse(done.creationTime as string)).toBe(
      7 * 24 * 3600 * 1000,
    );
    expect((await h.status('00000000-0000-1000-8000-000000000000')).status).toBe(404);
  });

  it('reads the webhook parameter raw (as the JS samples send it) or percent-encoded', () => {
    expect(webhookParam('/x?webhook=https://h.example/cb/1?a=1&b=2')).toBe('https://h.example/cb/1?a=1&b=2');
    expect(webhookParam(`/x?webhook=${encodeURIComponent('https://h.example/cb?a=1&b=2')}&other=1`)).toBe(
      'https://h.example/cb?a=1&b=2',
    );
    expect(webhookParam('/x?_emulator=drop&webhook=http://h/cb')).toBe('http://h/cb');
    expect(webhookParam('/x?webhook=http://h/cb&_emulator=drop')).toBe('http://h/cb');
    expect(webhookParam('/x')).toBeNull();
  });

  it('keeps speaker enrollments and uses them for identification', async () => {
    h = await startEmulator();
    sink = await startWebhookSink();
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${h.base}/ai/audio/v1/enrollments${path}`, {
        method,
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const seconds = (s: number) => Buffer.alloc(16_000 * s).toString('base64');
    const created = await call('POST', '', { speakerId: 'agent_7', encoding: 'Wav', content: seconds(10) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      speakerId: 'agent_7',
      enrollmentId: 'agent_7',
      enrollmentComplete: false,
    });
    expect((await call('POST', '', { enrollmentId: 'agent_7', encoding: 'Wav', content: seconds(10) })).status).toBe(
      409,
    );
    expect((await call('POST', '', { speakerId: 'short', encoding: 'Wav', content: seconds(3) })).status).toBe(400);
    expect(await (await call('GET', '?partial=false')).json()).toMatchObject({ records: [] });
    const patched = await call('PATCH', '/agent_7', { encoding: 'Wav', content: seconds(10) });
    expect(await patched.json()).toMatchObject({ enrollmentComplete: true });
    expect(await (await call('GET', '')).json()).toMatchObject({
      paging: { page: 1, totalPages: 1 },
      records: [{ speakerId: 'agent_7' }],
    });

    const identify = await h.submit(
      '/ai/audio/v1/async/speaker-identify',
      { ...audio, speakerIds: ['agent_7'] },
      `?webhook=${sink.url}`,
    );
    expect(identify.status).toBe(202);
    await sink.waitFor(1);
    const envelope = JSON.parse(sink.received[0]!.body) as {
      status: string;
      response: { utterances: { speakerId: string }[] };
    };
    expect(envelope.status).toBe('Success');
    expect(envelope.response.utterances.map((u) => u.speakerId)).toContain('agent_7');

    expect((await call('DELETE', '/agent_7')).status).toBe(204);
    expect((await call('DELETE', '/agent_7')).status).toBe(410);
    expect((await call('DELETE', '/nobody')).status).toBe(404);
    expect((await call('GET', '/agent_7')).status).toBe(404);
  });
});
