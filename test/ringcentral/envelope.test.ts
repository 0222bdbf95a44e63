import { describe, expect, it } from 'vitest';
import { isTerminalStatus, parseEnvelope } from '../../src/ringcentral/envelope.js';
import { BARE_PUNCTUATE, failEnvelope, sttEnvelope } from '../helpers/fixtures.js';

describe('parseEnvelope', () => {
  it('reads the current envelope', () => {
    const parsed = parseEnvelope(Buffer.from(JSON.stringify(sttEnvelope('job-1'))));
    expect(parsed).toEqual({
      ok: true,
      envelope: {
        jobId: 'job-1',
        api: '/ai/audio/v1/async/speech-to-text',
        status: 'Success',
        creationTime: '2026-11-20T10:00:00.000Z',
        completionTime: '2026-11-20T10:00:04.250Z',
        expirationTime: '2026-11-27T10:00:00.000Z',
      },
    });
  });

  it('reads the bare 2022 form without a jobId', () => {
    const parsed = parseEnvelope(JSON.stringify(BARE_PUNCTUATE));
    expect(parsed.ok && parsed.envelope).toMatchObject({ jobId: null, api: null, status: 'Success' });
  });

  it('keeps unknown statuses as non-terminal', () => {
    const parsed = parseEnvelope(JSON.stringify({ ...sttEnvelope('j'), status: 'Queued' }));
    expect(parsed.ok && parsed.envelope.status).toBe('Queued');
    expect(isTerminalStatus('Queued')).toBe(false);
    expect(isTerminalStatus('InProgress')).toBe(false);
    expect(isTerminalStatus('Success')).toBe(true);
    expect(isTerminalStatus('Fail')).toBe(true);
    expect(parseEnvelope(JSON.stringify(failEnvelope('j')))).toMatchObject({ ok: true, envelope: { status: 'Fail' } });
  });

  it('says why a body is not an envelope', () => {
    expect(parseEnvelope('not json')).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
    expect(parseEnvelope('[1,2]')).toMatchObject({ ok: false, error: expect.stringMatching(/not an object/) });
    expect(parseEnvelope('{"jobId":"x"}')).toMatchObject({ ok: false, error: expect.stringMatching(/status/) });
  });
});
