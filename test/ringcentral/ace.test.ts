import { describe, expect, it } from 'vitest';
import { insightsOfStoredBody, parseAceInsights } from '../../src/ringcentral/ace.js';
import { parseNotification } from '../../src/ringcentral/notification.js';

describe('the permissive ACE parser', () => {
  it('keeps an insight nested too deep to print as a placeholder, so every view and export still works (outside tester)', () => {
    // JSON.parse takes 5000 levels; printing them (JSON.stringify) overflowed the stack, and
    // `jobhook insights`/`export` died with a stack trace.
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const body = Buffer.from(
      `{"domain":"pbx","sourceRecordId":"z1","speakerInfo":[],"insights":{"QnA":[${deep}],"Summary":[{"value":"ok"}]}}`,
    );
    const record = insightsOfStoredBody(body);
    expect(record.insights.QnA).toEqual([{ value: '[nested too deep to show]' }]);
    expect(record.insights.Summary).toEqual([{ value: 'ok' }]);
    expect(() => JSON.stringify(record)).not.toThrow();
  });

  it('keeps unknown types, merges HighLights into Highlights and reads AIScore as a string', () => {
    const record = parseAceInsights({
      domain: 'rcx',
      sourceRecordId: 7,
      speakerInfo: [{ speakerId: 3304627, name: 'Agent' }],
      insights: { HighLights: [{ value: 'h' }], AIScore: { value: 8 }, QnA: [{ value: 'q', start: '1.5' }] },
    });
    expect(record).toMatchObject({ domain: 'rcx', sourceRecordId: '7', speakerInfo: [{ speakerId: '3304627' }] });
    expect(record.insights).toEqual({
      Highlights: [{ value: 'h' }],
      AIScore: [{ value: '8' }],
      QnA: [{ value: 'q', start: 1.5 }],
    });
  });
});

describe('notification ids', () => {
  it('takes an id holding a NUL as no id, never as another id without it (outside tester)', () => {
    const event = (sourceRecordId: string, uuid = 'u-1') =>
      Buffer.from(JSON.stringify({ uuid, event: '/e', subscriptionId: 's', body: { domain: 'pbx', sourceRecordId } }));
    expect(parseNotification(event('h1-nulid'))).toMatchObject({
      ok: true,
      envelope: { notification: { insights: { sourceRecordId: 'h1-nulid' } } },
    });
    expect(parseNotification(event('h1-nul\u0000id'))).toMatchObject({
      ok: true,
      envelope: { notification: { insights: null } },
    });
    expect(parseNotification(event('h1', 'u\u0000-1'))).toMatchObject({ ok: false });
  });
});
