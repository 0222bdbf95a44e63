import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { Job } from '../../src/client/job.js';
import type { TypedHandlerInput } from '../../src/client/typed-api.js';
import { encodingForUrl, resolveAsyncApi } from '../../src/ringcentral/apis.js';
import type { PunctuateResult, SpeechToTextResult } from '../../src/ringcentral/schemas.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { tempDbPath } from '../helpers/temp.js';

let loop: Loop | null = null;
afterEach(async () => {
  await loop?.close();
  loop = null;
});

describe('API names', () => {
  it('resolves dashed, camel and path spellings, and a path with ?_emulator=', () => {
    for (const ref of ['speech-to-text', 'speechToText', '/ai/audio/v1/async/speech-to-text']) {
      expect(resolveAsyncApi(ref)).toEqual({ path: '/ai/audio/v1/async/speech-to-text', emulatorFaults: null });
    }
    expect(resolveAsyncApi('/ai/text/v1/async/punctuate?_emulator=fail;delay=1s')).toEqual({
      path: '/ai/text/v1/async/punctuate',
      emulatorFaults: 'fail;delay=1s',
    });
    expect(() => resolveAsyncApi('speech_to_text')).toThrow(/unknown API "speech_to_text"; one of speech-to-text/);
    expect(() => resolveAsyncApi('punctuate?webhook=x')).toThrow(/only query parameter accepted.*_emulator/);
    // A dashed name is a whole last segment, not any suffix of a path.
    expect(() => resolveAsyncApi('text')).toThrow(/unknown API/);
  });

  it('guesses the encoding of every format the API accepts, and none for the others', () => {
    const cases: Record<string, string | null> = {
      'https://x.test/a.mp3': 'Mpeg',
      'https://x.test/a.M4A?sig=1': 'Mp4',
      'https://x.test/a.mp4': 'Mp4',
      'https://x.test/a.wav': 'Wav',
      'https://x.test/a.webm': 'Webm',
      'https://x.test/a.aac': 'Aac',
      'https://x.test/a.avi': 'Avi',
      'https://x.test/a.ogg': 'Ogg',
      'https://x.test/a.opus': 'Ogg',
      // The API takes no FLAC: it used to be sent as Mpeg.
      'https://x.test/a.flac': null,
      'https://x.test/recording': null,
      'https://x.test/dir.mp3/recording': null,
    };
    for (const [url, encoding] of Object.entries(cases)) expect([url, encodingForUrl(url)]).toEqual([url, encoding]);
  });

  it('on() takes every spelling (the dashed one used to throw) and submit() the dashed name', async () => {
    loop = await startLoop(tempDbPath());
    const seen: string[] = [];
    await loop.jobhook.on('speech-to-text', (input) => {
      expectTypeOf(input).toEqualTypeOf<TypedHandlerInput<SpeechToTextResult>>();
      if (input.status === 'Success') seen.push(`dashed:${input.response.transcript.length > 0}`);
    });
    await loop.jobhook.on('speechToText', () => void seen.push('camel'));
    await loop.jobhook.on('/ai/audio/v1/async/speech-to-text', () => void seen.push('path'));
    await expect(loop.jobhook.on('speech_to_text', () => undefined)).rejects.toMatchObject({
      code: 'JH_ERR_INVALID_ARGUMENT',
    });

    const job = await loop.jobhook.submit('speech-to-text', {
      contentUri: 'https://example.com/a.wav',
      encoding: 'Wav',
    });
    expectTypeOf(job).toEqualTypeOf<Job<SpeechToTextResult>>();
    expect(job.api).toBe('/ai/audio/v1/async/speech-to-text');
    expect((await job.result({ timeoutMs: 10_000 })).transcript.length).toBeGreaterThan(0);
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen.sort()).toEqual(['camel', 'dashed:true', 'path']);
  });

  it('passes ?_emulator= on a path to the emulator as per-job faults', async () => {
    loop = await startLoop(tempDbPath());
    const failed = await loop.jobhook.submit('/ai/text/v1/async/punctuate?_emulator=fail', { texts: ['hi'] });
    expectTypeOf(failed).toEqualTypeOf<Job>();
    expect(failed.api).toBe('/ai/text/v1/async/punctuate');
    await expect(failed.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'JH_ERR_JOB_FAILED' });
    const ok = await loop.jobhook.submit('punctuate', { texts: ['hi there'] });
    expectTypeOf(ok).toEqualTypeOf<Job<PunctuateResult>>();
    expect(await ok.result({ timeoutMs: 10_000 })).toEqual({ texts: ['Hi there.'] });
  });

  it('result({signal}) stops waiting when aborted, and a later result() still resolves', async () => {
    loop = await startLoop(tempDbPath(), { latency: { minMs: 300, maxMs: 300 } });
    const job = await loop.jobhook.punctuate({ texts: ['hello'] });
    const controller = new AbortController();
    const waiting = job.result({ signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(waiting).rejects.toThrow('user left');
    expect(loop.jobhook.stats.waiting).toBe(0);
    expect(await job.result({ timeoutMs: 10_000 })).toEqual({ texts: ['Hello.'] });
  });
});
