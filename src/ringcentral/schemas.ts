import type { AUDIO_TYPES, ENCODINGS, INSIGHTS, SUMMARY_TYPES } from './apis.js';

/** Request and result types of the AI API's async endpoints (reference §3). */
export interface AudioInput {
  /** Publicly reachable media URL (RingCentral recordings: add `?access_token=`). */
  contentUri: string;
  encoding: (typeof ENCODINGS)[number];
  /** @defaultValue 'en-US' */
  languageCode?: string;
  source?: string;
  audioType?: (typeof AUDIO_TYPES)[number];
  separateSpeakerPerChannel?: boolean;
  speakerCount?: number;
  enableVoiceActivityDetection?: boolean;
  speakerIds?: string[];
}

export interface SpeechToTextInput extends AudioInput {
  /** @defaultValue true */
  enablePunctuation?: boolean;
  /** @defaultValue false */
  enableSpeakerDiarization?: boolean;
  speechContexts?: { phrases: string[] }[];
}

export interface WordSegment {
  word: string;
  start: number;
  end: number;
  confidence?: number;
  speakerId?: string;
}

export interface Utterance {
  start: number;
  end: number;
  text: string;
  confidence?: number;
  speakerId?: string;
  wordTimings?: WordSegment[];
}

export interface SpeechToTextResult {
  transcript: string;
  confidence?: number;
  words: WordSegment[];
  speakerCount?: number;
  utterances?: Utterance[];
}

export interface DiarizeSegment {
  speakerId: string;
  start: number;
  end: number;
  confidence?: number;
}

export interface SpeakerDiarizeResult {
  speakerCount: number;
  utterances: DiarizeSegment[];
}

export interface SpeakerIdentifyInput extends AudioInput {
  speakerIds: string[];
}

export interface SpeakerIdentifyResult {
  utterances: DiarizeSegment[];
}

export interface AnalyzeInteractionInput extends AudioInput {
  insights: (typeof INSIGHTS)[number][];
  speechContexts?: { phrases: string[] }[];
}

export interface InsightValue {
  value: string | number;
  start?: number;
  end?: number;
  confidence?: number;
  speakerId?: string;
  groupId?: string;
  wpm?: number;
  questions?: { text: string; start: number; end: number }[];
}

export interface AnalyzeInteractionResult {
  utteranceInsights: Utterance[];
  speakerInsights: { speakerCount: number; insights: { name: string; values: InsightValue[] }[] };
  conversationalInsights: { name: string; values: InsightValue[] }[];
}

export interface PunctuateInput {
  texts: string[];
}

export interface PunctuateResult {
  texts: string[];
}

export interface SummarizeInput {
  summaryType: (typeof SUMMARY_TYPES)[number];
  utterances: { text: string; speakerId?: string; start?: number; end?: number }[];
}

export interface SummarizeResult {
  summaries: { name: string; values: { value: string; start?: number; end?: number; confidence?: number }[] }[];
}

export type RecognizeEmotionResult = { start: number; end: number; emotion: string; confidence?: number }[];
