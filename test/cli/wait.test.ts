import { describe, expect, it } from 'vitest';
import { formatSpan, nextStep, summarizeResult } from '../../src/cli/wait.js';
import type { RequestRecord } from '../../src/types.js';

const created = new Date(2026, 0, 2, 10, 37, 10);
const record = (over: Partial<RequestRecord>): RequestRecord =>
  ({
    requestId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    jobId: 'job-1',
    state: 'pending',
    deliveryCount: 0,
    checkCount: 0,
    nextCheckAt: null,
    createdAt: created.toISOString(),
    ...over,
  }) as RequestRecord;

describe('nextStep', () => {
  it('names the first status read: creation plus the first-check delay', () => {
    const now = created.getTime() + 2 * 60_000 + 47_000;
    expect(nextStep(record({}), now)).toBe(
      'no webhook yet; reconciliation reads the status endpoint at 10:42:10 (in 2m13s)',
    );
  });

  it('uses nextCheckAt after a read, says when a read is due, and when only a webhook can settle', () => {
    const next = new Date(created.getTime() + 9 * 60_000);
    expect(nextStep(record({ checkCount: 2, nextCheckAt: next.toISOString() }), next.getTime() - 61_000)).toBe(
      'no webhook yet; status read 2× (in progress); reconciliation reads the status endpoint at 10:46:10 (in 1m01s)',
    );
    expect(nextStep(record({}), created.getTime() + 6 * 60_000)).toMatch(
      /a status read is due now .*jobhook reconcile/,
    );
    expect(nextStep(record({ jobId: null }), created.getTime())).toBe(
      'no webhook yet; no jobId to read the status with, so only a webhook can settle it',
    );
  });

  it('formats spans', () => {
    expect([formatSpan(999), formatSpan(45_000), formatSpan(133_000), formatSpan(3_725_000)]).toEqual([
      '1s',
      '45s',
      '2m13s',
      '1h02m',
    ]);
  });
});

describe('summarizeResult', () => {
  it('gives a transcript a few lines: its start, counts, speakers and where the whole result is', () => {
    const words = Array.from({ length: 500 }, (_, i) => `word${i}`);
    const text = summarizeResult(
      {
        transcript: words.join(' '),
        confidence: 0.9,
        utterances: [{ speakerId: '0' }, { speakerId: '1' }, { speakerId: '0' }],
        words: words.map((w) => ({ word: w })),
      },
      'req-1',
    );
    expect(text.split('\n').length).toBeLessThanOrEqual(6);
    expect(text).toContain('transcript (500 words): word0 word1');
    expect(text).toContain('utterances: 3, words: 500');
    expect(text).toContain('speakers: 2');
    expect(text).toMatch(/full result \(\d+ bytes\): jobhook export req-1 .*--json or --out <file>/);
    expect(text.length).toBeLessThan(1200);
  });
});
