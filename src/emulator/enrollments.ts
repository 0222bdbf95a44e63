import { ENCODINGS } from '../ringcentral/apis.js';
import { platformError, type PlatformErrorBody } from '../ringcentral/platform-error.js';
import { audioDurationS } from './audio-duration.js';
import { round2 } from './rng.js';

/**
 * Speaker enrollments (reference §6), kept for the emulator's lifetime. Audio length is read from the
 * content where the format says it (WAV header, MP3 bitrate) and estimated otherwise (audio-duration.ts);
 * 80 % of it counts as speech. Under 6 s of speech is refused, under 12 s leaves the enrollment
 * incomplete. The id is read from `speakerId` or `enrollmentId` and echoed under both names, since
 * sources disagree.
 */
export interface EnrollmentStatus {
  speakerId: string;
  enrollmentId: string;
  enrollmentComplete: boolean;
  enrollmentQuality: 'Poor' | 'Average' | 'Good' | 'High';
  totalSpeechDuration: number;
  totalEnrollDuration: number;
}

export type EnrollmentReply = { status: number; body?: unknown };

function qualityOf(speechS: number): EnrollmentStatus['enrollmentQuality'] {
  return speechS < 12 ? 'Poor' : speechS < 20 ? 'Average' : speechS < 30 ? 'Good' : 'High';
}

function audioSeconds(body: Record<string, unknown>): number {
  return audioDurationS(body.encoding as string, Buffer.from(body.content as string, 'base64'));
}

function checkAudio(body: Record<string, unknown>): PlatformErrorBody | null {
  if (typeof body.encoding !== 'string' || !(ENCODINGS as readonly string[]).includes(body.encoding)) {
    return platformError(
      'CAI-101',
      `Parameter [encoding] is invalid. It should be one of ${ENCODINGS.join(', ')}`,
      'encoding',
    );
  }
  if (typeof body.content !== 'string' || body.content === '') {
    return platformError('CAI-101', 'Parameter [content] is invalid. It should be base64 audio', 'content');
  }
  return null;
}

export class Enrollments {
  readonly #byId = new Map<string, EnrollmentStatus>();
  readonly #deleted = new Set<string>();

  isComplete(id: string): boolean {
    return this.#byId.get(id)?.enrollmentComplete === true;
  }

  #status(id: string, totalS: number): EnrollmentStatus {
    const speech = round2(totalS * 0.8);
    return {
      speakerId: id,
      enrollmentId: id,
      enrollmentComplete: speech >= 12,
      enrollmentQuality: qualityOf(speech),
      totalSpeechDuration: speech,
      totalEnrollDuration: round2(totalS),
    };
  }

  create(body: Record<string, unknown>): EnrollmentReply {
    const id = body.speakerId ?? body.enrollmentId;
    if (typeof id !== 'string' || !/^[a-zA-Z0-9_]+$/.test(id)) {
      return {
        status: 400,
        body: platformError('CAI-101', 'Parameter [speakerId] is invalid. It should match [a-zA-Z0-9_]+', 'speakerId'),
      };
    }
    const bad = checkAudio(body);
    if (bad) return { status: 400, body: bad };
    if (this.#byId.has(id))
      return { status: 409, body: platformError('CAI-106', `Speaker [${id}] is already enrolled`) };
    const seconds = audioSeconds(body);
    if (seconds * 0.8 < 6) {
      return {
        status: 400,
        body: platformError('CAI-101', 'Parameter [content] is invalid. Less than 6 s of speech', 'content'),
      };
    }
    const status = this.#status(id, seconds);
    this.#byId.set(id, status);
    this.#deleted.delete(id);
    return { status: 201, body: status };
  }

  list(query: URLSearchParams): EnrollmentReply {
    const partial = query.get('partial') === 'true';
    const perPage = Math.max(1, Number(query.get('perPage') ?? 100) || 100);
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const all = [...this.#byId.values()].filter((e) => partial || e.enrollmentComplete);
    return {
      status: 200,
      body: {
        paging: { page, perPage, totalPages: Math.max(1, Math.ceil(all.length / perPage)) },
        records: all.slice((page - 1) * perPage, page * perPage),
      },
    };
  }

  get(id: string): EnrollmentReply {
    const status = this.#byId.get(id);
    return status
      ? { status: 200, body: status }
      : { status: 404, body: platformError('CAI-104', `Speaker [${id}] is not enrolled`) };
  }

  update(id: string, body: Record<string, unknown>): EnrollmentReply {
    const current = this.#byId.get(id);
    if (!current) return { status: 404, body: platformError('CAI-104', `Speaker [${id}] is not enrolled`) };
    const bad = checkAudio(body);
    if (bad) return { status: 400, body: bad };
    const status = this.#status(id, current.totalEnrollDuration + audioSeconds(body));
    this.#byId.set(id, status);
    return { status: 201, body: status };
  }

  delete(id: string): EnrollmentReply {
    if (this.#byId.delete(id)) {
      this.#deleted.add(id);
      return { status: 204 };
    }
    return this.#deleted.has(id)
      ? { status: 410, body: platformError('CAI-107', `Speaker [${id}] was already deleted`) }
      : { status: 404, body: platformError('CAI-104', `Speaker [${id}] was never enrolled`) };
  }

  reset(): void {
    this.#byId.clear();
    this.#deleted.clear();
  }
}
