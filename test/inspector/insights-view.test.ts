import { describe, expect, it } from 'vitest';
import { parseAceInsights } from '../../src/ringcentral/ace.js';
import { insightsOfDeliveryBody, toInsightsView, transcriptOf } from '../../src/inspector/insights-view.js';
import { aceFixture } from './ace-fixtures.js';

/**
 * The inspector's view of an ACE insight record (issue #12): transcript by speaker with timestamps, the
 * known insight types by name, unknown ones as they came; and the insights read out of a stored delivery.
 */
const ADA = 'p-b1f2c3d4e5f60718293a4b5c6d7e8f90-1';
const BEN = 'p-b1f2c3d4e5f60718293a4b5c6d7e8f90-2';

describe('toInsightsView', () => {
  it('joins transcript speakers to speakerInfo and names every known insight type (pbx sample)', () => {
    const view = toInsightsView(parseAceInsights(aceFixture('pbx-record.json')));
    expect(view).toMatchObject({
      domain: 'pbx',
      sourceRecordId: '3141592653589',
      title: 'Call from Ada Quinn to Ben Ortiz',
      callDirection: 'Outbound',
      recordingDurationMs: 61250,
      aiScore: '6',
      sentiment: 'Neutral',
      callNotes: ['Call notes.', 'Schedule moved.', 'Invoice pending.'],
      other: [],
    });
    expect(view.transcript).toEqual([
      { text: 'Morning Ben, thanks for picking up.', start: 1.5, end: 4.1, speakerId: ADA, speaker: 'Ada Quinn' },
      {
        text: 'Sure, is this about the delivery schedule?',
        start: 5,
        end: 9.8,
        speakerId: BEN,
        speaker: 'Ben Ortiz',
      },
    ]);
    // Summary start/end are ordinal indexes in the samples, not seconds: not shown as times.
    expect(view.summary).toEqual([
      { text: 'Ada and Ben agreed a new delivery schedule.', start: null, end: null, speakerId: null, speaker: null },
    ]);
    // The docs' `HighLights` spelling arrives as Highlights.
    expect(view.highlights).toEqual([
      { text: 'Delivery schedule raised.', start: 5, end: 9.8, speakerId: BEN, speaker: 'Ben Ortiz' },
    ]);
    expect(view.nextSteps.map((s) => [s.text, s.speaker])).toEqual([
      ['Send the revised schedule by Friday.', 'Ada Quinn'],
    ]);
    expect(view.bulletedSummary.map((b) => [b.text, b.section])).toEqual([['Schedule moved to Fridays.', null]]);
  });

  it('lists insight types it does not know as they came, and reads an rcx envelope', () => {
    const event = aceFixture('rcx-event.json');
    const view = toInsightsView(insightsOfDeliveryBody(Buffer.from(JSON.stringify(event))));
    expect(view.domain).toBe('rcx');
    expect(view.aiScore).toBe('9');
    expect(view.other).toEqual([
      {
        type: 'QnA',
        units: [{ start: 4.1, end: 8.7, value: 'Can you fix it?', speakerId: '9a8b7c6d-5e4f-4321-8765-0fedcba98765' }],
      },
    ]);
    expect(view.transcript.map((t) => t.speaker)).toEqual(['Carla Diaz', 'Customer']);
    expect(view.highlights).toEqual([]);
    expect(view.callNotes).toEqual([]);
  });

  it('keeps a speaker without a name (or not in speakerInfo) by id, and a record without insights empty', () => {
    const record = parseAceInsights({
      domain: 'rcv',
      sourceRecordId: 'm-1',
      speakerInfo: [{ speakerId: 'a', name: null }],
      insights: {
        Transcript: [
          { speakerId: 'a', text: 'hi', start: 1, end: 2 },
          { speakerId: 'zz', text: 'yo' },
        ],
      },
    });
    expect(toInsightsView(record).transcript).toEqual([
      { text: 'hi', start: 1, end: 2, speakerId: 'a', speaker: null },
      { text: 'yo', start: null, end: null, speakerId: 'zz', speaker: null },
    ]);
    const empty = toInsightsView(parseAceInsights({ domain: 'pbx', sourceRecordId: '1' }));
    expect(empty).toMatchObject({ transcript: [], summary: [], aiScore: null, sentiment: null, title: null });
  });

  it('orders the transcript by start, an item without a start staying after the one before it', () => {
    const record = parseAceInsights({
      domain: 'pbx',
      sourceRecordId: '1',
      insights: {
        Transcript: [
          { text: 'third', start: 9, end: 10 },
          { text: 'untimed after third' },
          { text: 'first', start: 1, end: 2 },
          { text: 'second', start: 5, end: 6 },
        ],
      },
    });
    expect(transcriptOf(record).map((t) => t.text)).toEqual(['first', 'second', 'third', 'untimed after third']);
  });
});

describe('insightsOfDeliveryBody', () => {
  it('reads an envelope body, a bare RecordingInsights and a BOM; refuses what is not insights', () => {
    const bare = aceFixture('pbx-record.json');
    const envelope = { uuid: '1', event: '/x', subscriptionId: 's', timestamp: 't', ownerId: 'o', body: bare };
    expect(insightsOfDeliveryBody(Buffer.from(JSON.stringify(envelope))).sourceRecordId).toBe('3141592653589');
    expect(insightsOfDeliveryBody(Buffer.from(JSON.stringify(bare))).sourceRecordId).toBe('3141592653589');
    expect(insightsOfDeliveryBody(Buffer.from('\uFEFF' + JSON.stringify(bare))).domain).toBe('pbx');
    expect(() => insightsOfDeliveryBody(Buffer.from('{not json'))).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/not JSON/) }),
    );
    expect(() => insightsOfDeliveryBody(Buffer.from('{"uuid":"1","event":"/x","body":{}}'))).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/domain/) }),
    );
  });
});
