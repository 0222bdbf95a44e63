/**
 * Envelopes written for these tests in the shapes of the AI API reference (§4): the current form,
 * the 2022 bare form, and a failure. Not copied from any sample file.
 */
export function sttEnvelope(jobId: string, status = 'Success'): Record<string, unknown> {
  return {
    jobId,
    api: '/ai/audio/v1/async/speech-to-text',
    creationTime: '2026-11-20T10:00:00.000Z',
    completionTime: '2026-11-20T10:00:04.250Z',
    expirationTime: '2026-11-27T10:00:00.000Z',
    status,
    response: {
      confidence: 0.93,
      transcript: 'Thanks for calling, how can I help?',
      words: [
        { word: 'thanks', start: 0.4, end: 0.7, confidence: 0.95 },
        { word: 'for', start: 0.7, end: 0.82, confidence: 0.97 },
        { word: 'calling', start: 0.82, end: 1.3, confidence: 0.94 },
      ],
    },
  };
}

export function failEnvelope(jobId: string): Record<string, unknown> {
  return {
    jobId,
    api: '/ai/audio/v1/async/speech-to-text',
    creationTime: '2026-11-20T10:00:00.000Z',
    completionTime: '2026-11-20T10:00:01.000Z',
    expirationTime: '2026-11-27T10:00:00.000Z',
    status: 'Fail',
    response: {
      errors: [
        {
          errorCode: 'CAI-101',
          message: 'Parameter [contentUri] is invalid. It should be a valid uri',
          parameterName: 'contentUri',
        },
      ],
    },
  };
}

export const BARE_PUNCTUATE = { status: 'Success', response: { texts: ['Hello, how are you today?'] } };

/**
 * A speech-to-text Success envelope of about `targetBytes` (an hour with word timings is ~1.5 MB; 28 MiB
 * happens), built as text so large sizes are cheap to make. Every word differs, so bodies do not compress
 * into something unrealistic.
 */
export function largeSttEnvelope(jobId: string, targetBytes: number): Buffer {
  const head = JSON.stringify(sttEnvelope(jobId)).replace(/"response":\{.*\}\}$/, '"response":{"words":[');
  const words: string[] = [];
  let size = head.length + 40;
  for (let i = 0; size < targetBytes; i++) {
    const start = (i * 0.41).toFixed(2);
    const word = `{"word":"w${i.toString(36)}","start":${start},"end":${(i * 0.41 + 0.3).toFixed(2)},"confidence":0.9,"speakerId":"${i % 2}"}`;
    words.push(word);
    size += word.length + 1;
  }
  return Buffer.from(`${head}${words.join(',')}],"confidence":0.91}}`);
}
