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

describe('parseEnvelope and a UTF-8 byte order mark (tester report)', () => {
  it('skips one leading BOM, from bytes or from text, and leaves the given buffer untouched', () => {
    const json = JSON.stringify(sttEnvelope('job-bom'));
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    const before = Buffer.from(body);
    // Before the fix: `not JSON: Unexpected token`, stored as unparseable and never settled.
    expect(parseEnvelope(body)).toMatchObject({ ok: true, envelope: { jobId: 'job-bom', status: 'Success' } });
    expect(body.equals(before)).toBe(true);
    expect(parseEnvelope(`\uFEFF${json}`)).toMatchObject({ ok: true, envelope: { jobId: 'job-bom' } });
    // Only one: two marks are not JSON text.
    expect(parseEnvelope(`\uFEFF\uFEFF${json}`)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not JSON/),
    });
  });
});
