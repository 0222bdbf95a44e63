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
