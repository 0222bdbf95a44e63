import { aceEventFilter, type AceDomain } from '../ringcentral/ace.js';
import { CORPUS, type Dialogue } from './corpus.js';
import type { EmulatorOptions } from './options.js';
import { round2, type Rng } from './rng.js';
import type { Notifier, NotifyFaults } from './subscription-delivery.js';
import { TimerSet } from './timer-set.js';

/**
 * Simulated recorded calls and their ACE insights events (reference §11). A call publishes one event
 * (or two with AI Notes on a pbx call, §11.4: the AI Notes one first, then a fuller one with a newer
 * `lastModifiedTime`) to every Active subscription whose filter names its domain; the REST read
 * endpoints answer the newest version published so far.
 *
 * State of a call: scheduled (404 on REST) → first version published → second version published (AI
 * Notes only). Body shapes follow the samples: pbx without `eventType`/`rsRecordUri`, digits for the
 * record id and `p-…-n` speaker ids; rcx-like domains with `eventType: "Create"`, `rsRecordUri`, phone
 * numbers and a `QnA` insight; video domains with the meeting id as both record and session id.
 */
export interface AceCall {
  domain: AceDomain;
  sourceRecordId: string;
  sourceSessionId: string;
  withAiNotes: boolean;
  plannedEvents: number;
  /** Bodies published so far, oldest first. */
  versions: Record<string, unknown>[];
  /** Subscriptions each version was sent to. */
  deliveredTo: string[][];
}

const NAMES = ['Priya Natarajan', 'Marcus Olsen', 'Dana Whitfield', 'Tomás Ferreira', 'Aiko Tanaka', 'Lena Brandt'];
const hex = (rng: Rng, n: number): string => Array.from({ length: n }, () => rng.int(16).toString(16)).join('');
const digits = (rng: Rng, n: number): string =>
  String(1 + rng.int(9)) + Array.from({ length: n - 1 }, () => rng.int(10)).join('');
const phone = (rng: Rng): string => `+1650${digits(rng, 7)}`;

interface Speaker {
  speakerId: string;
  name: string;
  accountId: string | null;
  extensionId: string | null;
  phoneNumber?: string;
}

type Shape = 'pbx' | 'contact-center' | 'video';
const shapeOf = (domain: AceDomain): Shape =>
  domain === 'pbx' ? 'pbx' : domain === 'rcv' || domain === 'ms-teams' ? 'video' : 'contact-center';

export class AceCalls {
  readonly #calls: AceCall[] = [];
  readonly #options: () => EmulatorOptions;
  readonly #rng: () => Rng;
  readonly #notifier: Notifier;
  readonly #accountId: string;
  readonly #timers = new TimerSet();

  constructor(options: () => EmulatorOptions, rng: () => Rng, notifier: Notifier, accountId: string) {
    this.#options = options;
    this.#rng = rng;
    this.#notifier = notifier;
    this.#accountId = accountId;
  }

  list(): AceCall[] {
    return [...this.#calls];
  }

  find(domain: string, by: 'sourceRecordId' | 'sourceSessionId', id: string): AceCall[] {
    return this.#calls.filter((c) => c.domain === domain && c[by] === id);
  }

  /** Records a call now; its events follow after `insightsDelayMs` (and `aiNotesGapMs` for the second). */
  simulate(domain: AceDomain, withAiNotes: boolean, ownerId: string, faults: NotifyFaults = {}): AceCall {
    const rng = this.#rng();
    const shape = shapeOf(domain);
    const dialogue = pickDialogue(rng, shape);
    const acct = this.#accountId;
    let sourceRecordId: string;
    let sourceSessionId: string;
    const session = hex(rng, 32);
    const speakers: Speaker[] = [];
    if (shape === 'pbx') {
      sourceRecordId = digits(rng, 13);
      sourceSessionId = `s-${session}`;
      for (let i = 0; i < dialogue.speakers; i++) {
        const internal = i === 0;
        speakers.push({
          speakerId: `p-${session}-${i + 1}`,
          name: NAMES[(rng.int(NAMES.length) + i) % NAMES.length]!,
          accountId: internal ? acct : null,
          extensionId: internal ? ownerId : null,
        });
      }
    } else if (shape === 'video') {
      sourceRecordId =
        domain === 'ms-teams'
          ? `${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`
          : digits(rng, 10);
      sourceSessionId = sourceRecordId;
      for (let i = 0; i < dialogue.speakers; i++) {
        speakers.push({
          speakerId: String(100 + i),
          name: NAMES[(i + rng.int(2)) % NAMES.length]!,
          accountId: acct,
          extensionId: i === 0 ? ownerId : digits(rng, 11),
        });
      }
    } else {
      const stamp = `17${digits(rng, 11)}`; // epoch-ms-like, as in the sample, but drawn from the seed
      sourceSessionId = `s-v-${session}-${stamp}`;
      sourceRecordId = `p-v-${session}-${stamp}-${hex(rng, 13)}`;
      speakers.push(
        {
          speakerId: digits(rng, 7),
          name: NAMES[rng.int(NAMES.length)]!,
          accountId: acct,
          extensionId: ownerId,
          phoneNumber: phone(rng),
        },
        {
          speakerId: `${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`,
          name: 'Customer',
          accountId: null,
          extensionId: null,
          phoneNumber: phone(rng),
        },
      );
    }
    const aiNotes = withAiNotes && domain === 'pbx';
    const call: AceCall = {
      domain,
      sourceRecordId,
      sourceSessionId,
      withAiNotes: aiNotes,
      plannedEvents: aiNotes ? 2 : 1,
      versions: [],
      deliveredTo: [],
    };
    this.#calls.push(call);
    const base = baseBody(rng, call, dialogue, speakers, ownerId, shape);
    const o = this.#options().ace;
    const stages: ('notes' | 'full')[] = aiNotes ? ['notes', 'full'] : ['full'];
    stages.forEach((stage, index) => {
      const insights = insightsFor(rng, dialogue, speakers, shape, stage, aiNotes);
      this.#later(o.insightsDelayMs + index * o.aiNotesGapMs, () => this.#publish(call, base, insights, faults));
    });
    return call;
  }

  #publish(
    call: AceCall,
    base: Record<string, unknown>,
    insights: Record<string, unknown>,
    faults: NotifyFaults,
  ): void {
    const previous = call.versions.at(-1);
    const prevMs = previous ? Date.parse(previous.lastModifiedTime as string) : 0;
    const now = Math.max(Date.now(), prevMs + 1);
    const body = {
      ...base,
      creationTime: (previous?.creationTime as string | undefined) ?? new Date(now).toISOString(),
      lastModifiedTime: new Date(now).toISOString(),
      speakerInfo: base.speakerInfo,
      insights,
    };
    call.versions.push(body);
    call.deliveredTo.push(this.#notifier.publish(aceEventFilter(call.domain, this.#accountId), body, faults));
  }

  #later(ms: number, fn: () => void): void {
    this.#timers.later(ms, fn);
  }

  reset(): void {
    this.#timers.clear();
    this.#calls.length = 0;
  }
}

function pickDialogue(rng: Rng, shape: Shape): Dialogue {
  const wanted = shape === 'video' ? 'Meeting' : 'CallCenter';
  return rng.pick(CORPUS.filter((d) => d.audioType === wanted));
}

interface Line {
  speakerId: string;
  text: string;
  start: number;
  end: number;
}

function timedLines(dialogue: Dialogue, speakers: Speaker[]): Line[] {
  let t = 2.2;
  return dialogue.lines.map(([speaker, text]) => {
    const start = round2(t);
    const end = round2(t + Math.max(0.6, text.split(/\s+/).length / 2.6));
    t = end + 0.7;
    return { speakerId: speakers[speaker % speakers.length]!.speakerId, text, start, end };
  });
}

function baseBody(
  rng: Rng,
  call: AceCall,
  dialogue: Dialogue,
  speakers: Speaker[],
  ownerId: string,
  shape: Shape,
): Record<string, unknown> {
  const lines = timedLines(dialogue, speakers);
  const durationMs = Math.round((lines.at(-1)!.end + 0.5) * 1000);
  const inbound = rng.next() < 0.5;
  const title =
    shape === 'video'
      ? dialogue.title
      : shape === 'pbx'
        ? `Call from ${speakers[inbound ? 1 : 0]!.name} to ${speakers[inbound ? 0 : 1]!.name}`
        : `${inbound ? 'Inbound' : 'Outbound'} call with ${speakers[1]!.phoneNumber ?? ''}`;
  return {
    ...(shape === 'contact-center' ? { eventType: 'Create' } : {}),
    title,
    ...(shape === 'pbx'
      ? {}
      : {
          rsRecordUri: `https://ringsense.ringcentral.com/calls/${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`,
        }),
    domain: call.domain,
    sourceSessionId: call.sourceSessionId,
    sourceRecordId: call.sourceRecordId,
    ...(shape === 'video' ? {} : { callDirection: inbound ? 'Inbound' : 'Outbound' }),
    ownerExtensionId: ownerId,
    recordingDurationMs: durationMs,
    recordingStartTime: new Date(Date.now() - durationMs - 60_000).toISOString(),
    speakerInfo: speakers,
  };
}

/**
 * The insights of one version. Events spell highlights `HighLights` as the ACE docs do (the REST
 * endpoints answer the spec's `Highlights`), so receivers meet both spellings.
 */
function insightsFor(
  rng: Rng,
  dialogue: Dialogue,
  speakers: Speaker[],
  shape: Shape,
  stage: 'notes' | 'full',
  aiNotes: boolean,
): Record<string, unknown> {
  const lines = timedLines(dialogue, speakers);
  const subject = dialogue.title.toLowerCase();
  const summary = [
    { start: 0, end: 1, value: `The call is about ${subject}.` },
    { start: 1, end: 2, value: `${speakers[0]!.name} went through the details and agreed on what happens next.` },
  ];
  const callNotes = [
    {
      value: `Call notes.\n${lines
        .slice(0, 3)
        .map((l) => `- ${l.text}`)
        .join('\n')}`,
    },
  ];
  if (stage === 'notes') return { Transcript: lines, Summary: summary.slice(0, 1), CallNotes: callNotes };
  const actions = lines.filter((l) => /\b(I'll|I will|will|going to|can you|could you)\b/i.test(l.text)).slice(0, 3);
  const longest = [...lines].sort((a, b) => b.text.length - a.text.length).slice(0, 2);
  const questions = lines.filter((l) => l.text.trim().endsWith('?')).slice(0, 2);
  const unit = (l: Line) => ({ start: l.start, end: l.end, value: l.text, speakerId: l.speakerId });
  return {
    Transcript: lines,
    Summary: summary,
    HighLights: longest.map(unit),
    NextSteps: (actions.length > 0 ? actions : lines.slice(-1)).map(unit),
    AIScore: [{ value: String(5 + rng.int(5)) }],
    Sentiment: [{ value: rng.pick(['Positive', 'Neutral', 'Negative']) }],
    ...(shape === 'contact-center' ? { QnA: questions.map(unit) } : {}),
    BulletedSummary: summary.map((s) => ({ value: s.value })),
    ...(aiNotes ? { CallNotes: callNotes } : {}),
  };
}
