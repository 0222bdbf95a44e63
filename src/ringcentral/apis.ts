import { JobhookError } from '../errors.js';

/**
 * The asynchronous endpoints of the RingCentral AI API (reference §2), by their jobhook name.
 * Every one is POSTed with a `webhook` query parameter, answers `202 {jobId}`, belongs to the Heavy
 * rate-limit group and needs the "AI" app permission.
 */
export const ASYNC_APIS = {
  speechToText: '/ai/audio/v1/async/speech-to-text',
  speakerDiarize: '/ai/audio/v1/async/speaker-diarize',
  speakerIdentify: '/ai/audio/v1/async/speaker-identify',
  analyzeInteraction: '/ai/insights/v1/async/analyze-interaction',
  punctuate: '/ai/text/v1/async/punctuate',
  summarize: '/ai/text/v1/async/summarize',
  /** 2022 only (spec22); never in the SDK. */
  recognizeEmotion: '/ai/audio/v1/async/recognize-emotion',
} as const;

export type AsyncApiName = keyof typeof ASYNC_APIS;
export type AsyncApiPath = (typeof ASYNC_APIS)[AsyncApiName];

export const ASYNC_API_PATHS: ReadonlySet<string> = new Set(Object.values(ASYNC_APIS));

export function asyncApiName(path: string): AsyncApiName | undefined {
  return (Object.keys(ASYNC_APIS) as AsyncApiName[]).find((name) => ASYNC_APIS[name] === path);
}

export const JOB_STATUS_PATH = '/ai/status/v1/jobs/';
export const ENROLLMENTS_PATH = '/ai/audio/v1/enrollments';
export const TOKEN_PATH = '/restapi/oauth/token';
export const REVOKE_PATH = '/restapi/oauth/revoke';

/** Enumerations the API documents (reference §3). */
export const ENCODINGS = ['Mpeg', 'Mp4', 'Wav', 'Webm', 'Webp', 'Aac', 'Avi', 'Ogg'] as const;
export const AUDIO_TYPES = [
  'CallCenter',
  'Meeting',
  'EarningsCalls',
  'Interview',
  'PressConference',
  'Voicemail',
] as const;
export const INSIGHTS = [
  'All',
  'KeyPhrases',
  'AbstractiveSummaryLong',
  'AbstractiveSummaryShort',
  'ExtractiveSummary',
  'Topics',
  'TalkToListenRatio',
  'Pace',
  'QuestionsAsked',
] as const;
export const SUMMARY_TYPES = ['Extractive', 'AbstractiveShort', 'AbstractiveLong', 'AbstractiveAll', 'All'] as const;
export const EMOTIONS = ['Anger', 'Excitement', 'Frustration', 'Joy', 'Sadness', 'Neutral'] as const;

/** `/ai/audio/v1/async/speech-to-text` → `speech-to-text`: the path's last segment, as the CLI spells it. */
type LastSegment<P extends string> = P extends `${string}/${infer Rest}` ? LastSegment<Rest> : P;

/** Every spelling of an async API that jobhook accepts: method name, dashed name or path. */
export type AsyncApiRef = {
  [N in AsyncApiName]: N | (typeof ASYNC_APIS)[N] | LastSegment<(typeof ASYNC_APIS)[N]>;
}[AsyncApiName];

/** The method name behind any accepted spelling. */
export type AsyncApiNameOf<R extends AsyncApiRef> = {
  [N in AsyncApiName]: R extends N | (typeof ASYNC_APIS)[N] | LastSegment<(typeof ASYNC_APIS)[N]> ? N : never;
}[AsyncApiName];

export interface ResolvedAsyncApi {
  path: AsyncApiPath;
  /** The `_emulator` query parameter of a path such as `…/speech-to-text?_emulator=fail` (emulator only). */
  emulatorFaults: string | null;
}

/**
 * `speech-to-text`, `speechToText` or `/ai/audio/v1/async/speech-to-text` → the API path. A path may carry
 * `?_emulator=…` (the emulator's per-job faults); no other query parameter is accepted, since the real API
 * documents none and a typo would otherwise go unnoticed.
 */
export function resolveAsyncApi(ref: string): ResolvedAsyncApi {
  const [base = '', query] = ref.split(/\?(.*)/s, 2);
  const byName = (ASYNC_APIS as Record<string, AsyncApiPath | undefined>)[base];
  const paths = Object.values(ASYNC_APIS) as AsyncApiPath[];
  const path = byName ?? paths.find((p) => p === base || (!base.includes('/') && p.endsWith(`/${base}`)));
  if (!path) {
    const names = Object.values(ASYNC_APIS).map((p) => p.split('/').at(-1));
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `unknown API "${base}"; one of ${names.join(', ')} (or its path)`,
    );
  }
  let emulatorFaults: string | null = null;
  if (query !== undefined) {
    const params = new URLSearchParams(query);
    const other = [...params.keys()].find((key) => key !== '_emulator');
    if (other !== undefined || !params.get('_emulator')) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `"${ref}": the only query parameter accepted on an API path is _emulator=<faults> (for the emulator)`,
      );
    }
    emulatorFaults = params.get('_emulator');
  }
  return { path, emulatorFaults };
}

/**
 * File extensions of the audio formats the API accepts (`ENCODINGS`), for guessing `encoding` from a
 * media URL. Opus and Vorbis travel in Ogg; FLAC, AIFF and WMA are not accepted by the API at all, so
 * they are left out on purpose: a guess would only be refused later, or mis-transcribed.
 */
const ENCODING_BY_EXTENSION: Readonly<Record<string, (typeof ENCODINGS)[number]>> = {
  mp3: 'Mpeg',
  mpeg: 'Mpeg',
  mpga: 'Mpeg',
  mp4: 'Mp4',
  m4a: 'Mp4',
  m4v: 'Mp4',
  wav: 'Wav',
  wave: 'Wav',
  webm: 'Webm',
  weba: 'Webm',
  webp: 'Webp',
  aac: 'Aac',
  avi: 'Avi',
  ogg: 'Ogg',
  oga: 'Ogg',
  opus: 'Ogg',
};

/** The encoding for a media URL's extension, or null when the extension names no accepted format. */
export function encodingForUrl(url: string): (typeof ENCODINGS)[number] | null {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    pathname = url.split(/[?#]/)[0]!;
  }
  const file = pathname.split('/').at(-1) ?? '';
  if (!file.includes('.')) return null;
  return ENCODING_BY_EXTENSION[file.split('.').at(-1)!.toLowerCase()] ?? null;
}
