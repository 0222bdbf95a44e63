import { afterEach, describe, expect, it } from 'vitest';
import { ApiRejectedError, JobFailedError } from '../../src/errors.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { tempDbPath } from '../helpers/temp.js';

let loop: Loop;
afterEach(async () => {
  await loop.close();
});

const audio = { contentUri: 'https://example.com/support-call.mp3', encoding: 'Mpeg' as const };

describe('createJobhook against the emulator', () => {
  it('submits every async endpoint and awaits each typed result', async () => {
    loop = await startLoop(tempDbPath());
    const { jobhook } = loop;
    const stt = await jobhook.speechToText({ ...audio, enableSpeakerDiarization: true });
    expect(stt).toMatchObject({
      requestId: expect.any(String),
      jobId: expect.any(String),
      api: '/ai/audio/v1/async/speech-to-text',
    });
    const transcript = await stt.result({ timeoutMs: 10_000 });
    expect(transcript.transcript.length).toBeGreaterThan(20);
    expect(transcript.utterances!.length).toBeGreaterThan(0);
    expect((await (await jobhook.speakerDiarize(audio)).result()).speakerCount).toBeGreaterThan(0);
    expect(
      (await (await jobhook.analyzeInteraction({ ...audio, insights: ['All'] })).result()).conversationalInsights
        .length,
    ).toBe(5);
    expect((await (await jobhook.punctuate({ texts: ['where is my order'] })).result()).texts).toEqual([
      'Where is my order?',
    ]);
    const summary = await (
      await jobhook.summarize({ summaryType: 'Extractive', utterances: [{ text: 'The order shipped on Monday.' }] })
    ).result();
    expect(summary.summaries[0]!.values[0]!.value).toBe('The order shipped on Monday.');
    expect((await (await jobhook.recognizeEmotion(audio)).result()).length).toBeGreaterThan(0);
    const generic = await jobhook.submit<{ texts: string[] }>('/ai/text/v1/async/punctuate', { texts: ['hi there'] });
    expect((await generic.result()).texts).toEqual(['Hi there.']);
    const record = await generic.record();
    expect(record).toMatchObject({ submitState: 'accepted', state: 'succeeded' });
    expect(record.callbackUrl).toContain(`/webhooks/${generic.requestId}/`);
  });

  it('rejects with JobFailedError carrying the envelope on Fail', async () => {
    loop = await startLoop(tempDbPath(), { failRate: 1 });
    const job = await loop.jobhook.punctuate({ texts: ['hello'] });
    const error = await job.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).code).toBe('JH_ERR_JOB_FAILED');
    expect((error as JobFailedError).envelope).toMatchObject({
      jobId: job.jobId,
      status: 'Fail',
      response: { errors: [expect.any(Object)] },
    });
  });

  it('surfaces a validation error with the platform errorCode and marks the request rejected', async () => {
    loop = await startLoop(tempDbPath());
    const error = await loop.jobhook
      .submit('/ai/audio/v1/async/speech-to-text', { contentUri: 'nope', encoding: 'Mpeg' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({
      code: 'JH_ERR_API_REJECTED',
      status: 400,
      errorCode: 'CAI-101',
      parameterName: 'contentUri',
    });
    const [request] = await loop.harness.store.listRequests({ limit: 1 });
    expect(request).toMatchObject({ submitState: 'rejected', jobId: null });
    expect(request!.submitError).toMatch(/CAI-101/);
  });

  it('times out only the wait: a later result() still resolves', async () => {
    loop = await startLoop(tempDbPath(), { latency: { minMs: 400, maxMs: 400 } });
    const job = await loop.jobhook.punctuate({ texts: ['are you there'] });
    await expect(job.result({ timeoutMs: 50 })).rejects.toMatchObject({ code: 'JH_ERR_TIMEOUT' });
    await expect(job.result({ timeoutMs: 5000 })).resolves.toEqual({ texts: ['Are you there?'] });
    // A result that arrived before result() was called resolves at once, by request ID or jobId.
    expect(await (await loop.jobhook.job(job.jobId!)).result({ timeoutMs: 1 })).toEqual({ texts: ['Are you there?'] });
  });

  it('recovers dropped results through the status endpoint and expires unknown jobs', async () => {
    loop = await startLoop(tempDbPath(), { dropRate: 1 });
    const job = await loop.jobhook.punctuate({ texts: ['lost in transit'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await job.record()).state).toBe('pending');
    const waiting = job.result({ timeoutMs: 5000 });
    const report = await loop.jobhook.reconcile({ olderThanMs: 0 });
    expect(report).toMatchObject({ checked: 1, settled: 1 });
    expect(await waiting).toEqual({ texts: ['Lost in transit.'] });
    const [delivery] = await loop.harness.store.listDeliveries(job.requestId);
    expect(delivery).toMatchObject({ source: 'status-poll', parseState: 'parsed' });
  });

  it('makes a request expired when the status endpoint no longer knows its job', async () => {
    loop = await startLoop(tempDbPath(), { dropRate: 1, expiryMs: 100 });
    const job = await loop.jobhook.punctuate({ texts: ['never seen again'] });
    const waiting = job.result({ timeoutMs: 5000 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await loop.jobhook.reconcile({ olderThanMs: 0 })).toMatchObject({ checked: 1, expired: 1 });
    expect(await waiting).toMatchObject({ code: 'JH_ERR_JOB_EXPIRED' });
    expect(await job.record()).toMatchObject({ state: 'expired' });
  });
});
