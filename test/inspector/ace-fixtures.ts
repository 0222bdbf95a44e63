import { readFileSync } from 'node:fs';

/** ACE insights bodies for the inspector's tests: the samples under test/fixtures/ace/ and a generated hour-long call. */
const FIXTURES = new URL('../fixtures/ace/', import.meta.url);

export function aceFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

const WORDS = ['delivery', 'schedule', 'invoice', 'Friday', 'warehouse', 'customer', 'contract', 'address', 'pallet'];

/**
 * A RecordingInsights of an hour-long two-party call: `items` transcript sentences of ~80 characters
 * (10 000 make ~1.5 MB of JSON, as a real hour does), times in float seconds over 3 600 s.
 */
export function hourLongInsights(items = 10_000): Record<string, unknown> {
  const speakers = ['p-aaaa-1', 'p-aaaa-2'];
  const step = 3600 / items;
  const transcript = Array.from({ length: items }, (_, i) => {
    const words = Array.from({ length: 9 }, (_w, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' ');
    return {
      speakerId: speakers[Math.floor(i / 3) % 2],
      text: `Item ${i}: about the ${words}.`,
      start: Number((i * step + 0.013).toFixed(3)),
      end: Number((i * step + step * 0.9).toFixed(3)),
    };
  });
  return {
    title: 'Call from Ada Quinn to Ben Ortiz',
    domain: 'pbx',
    sourceSessionId: 's-hour',
    sourceRecordId: '1000000000001',
    recordingDurationMs: 3_600_000,
    lastModifiedTime: '2026-03-02T12:00:00.000Z',
    speakerInfo: [
      { speakerId: speakers[0], name: 'Ada Quinn', accountId: '1', extensionId: '2' },
      { speakerId: speakers[1], name: 'Ben Ortiz', accountId: null, extensionId: null },
    ],
    insights: {
      Transcript: transcript,
      Summary: [{ start: 0, end: 1, value: 'An hour about deliveries.' }],
      AIScore: [{ value: '7' }],
    },
  };
}
