import { AUDIO_TYPES, ENCODINGS, INSIGHTS, SUMMARY_TYPES, type AsyncApiName } from './apis.js';
import type { PlatformErrorItem } from './platform-error.js';

/**
 * Checks a job body as the reference describes each endpoint's input (§3). Pure; returns the first
 * problem as a CAI-101 error naming the parameter, in the documented message style, or null.
 * Where sources disagree the safe reading wins: `encoding` is required, `languageCode` defaults to
 * en-US, base64 `content` (2022 only) is refused in favour of `contentUri`.
 */
export function validateJobInput(api: AsyncApiName, body: unknown): PlatformErrorItem | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('body', 'It should be a JSON object');
  }
  const input = body as Record<string, unknown>;
  switch (api) {
    case 'punctuate':
      return checkStringArray(input, 'texts', true);
    case 'summarize':
      return checkEnum(input, 'summaryType', SUMMARY_TYPES, true) ?? checkUtterances(input);
    case 'analyzeInteraction':
      return checkAudio(input) ?? checkEnumArray(input, 'insights', INSIGHTS) ?? checkSpeechContexts(input);
    case 'speechToText':
      return (
        checkAudio(input) ??
        checkBoolean(input, 'enablePunctuation') ??
        checkBoolean(input, 'enableSpeakerDiarization') ??
        checkSpeechContexts(input)
      );
    case 'speakerIdentify':
      return checkAudio(input) ?? checkStringArray(input, 'speakerIds', true);
    case 'speakerDiarize':
    case 'recognizeEmotion':
      return checkAudio(input);
  }
}

function invalid(parameterName: string, why: string): PlatformErrorItem {
  return { errorCode: 'CAI-101', message: `Parameter [${parameterName}] is invalid. ${why}`, parameterName };
}

function checkAudio(input: Record<string, unknown>): PlatformErrorItem | null {
  if (input.content !== undefined) {
    return invalid('content', 'Base64 content is not supported; give a publicly reachable contentUri');
  }
  const uri = input.contentUri;
  if (typeof uri !== 'string' || !isHttpUrl(uri)) return invalid('contentUri', 'It should be a valid uri');
  return (
    checkEnum(input, 'encoding', ENCODINGS, true) ??
    checkLanguage(input) ??
    checkEnum(input, 'audioType', AUDIO_TYPES, false) ??
    checkType(input, 'source', 'string') ??
    checkBoolean(input, 'separateSpeakerPerChannel') ??
    checkBoolean(input, 'enableVoiceActivityDetection') ??
    checkSpeakerCount(input) ??
    (input.speakerIds === undefined ? null : checkStringArray(input, 'speakerIds', false))
  );
}

function checkLanguage(input: Record<string, unknown>): PlatformErrorItem | null {
  const code = input.languageCode;
  if (code === undefined) return null;
  if (typeof code !== 'string' || !/^en(-[A-Z]{2})?$/.test(code)) {
    return invalid('languageCode', 'Only English is supported, e.g. en-US');
  }
  return null;
}

function checkSpeakerCount(input: Record<string, unknown>): PlatformErrorItem | null {
  const count = input.speakerCount;
  if (count === undefined || (Number.isInteger(count) && (count as number) >= -1)) return null;
  return invalid('speakerCount', 'It should be an integer (-1 when unknown)');
}

function checkType(input: Record<string, unknown>, name: string, type: 'string'): PlatformErrorItem | null {
  const value = input[name];
  return value === undefined || typeof value === type ? null : invalid(name, `It should be a ${type}`);
}

function checkBoolean(input: Record<string, unknown>, name: string): PlatformErrorItem | null {
  const value = input[name];
  return value === undefined || typeof value === 'boolean' ? null : invalid(name, 'It should be a boolean');
}

function checkEnum(
  input: Record<string, unknown>,
  name: string,
  allowed: readonly string[],
  required: boolean,
): PlatformErrorItem | null {
  const value = input[name];
  if (value === undefined && !required) return null;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    return invalid(name, `It should be one of ${allowed.join(', ')}`);
  }
  return null;
}

function checkStringArray(input: Record<string, unknown>, name: string, required: boolean): PlatformErrorItem | null {
  const value = input[name];
  if (value === undefined && !required) return null;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    return invalid(name, 'It should be a non-empty List[String]');
  }
  return null;
}

function checkEnumArray(
  input: Record<string, unknown>,
  name: string,
  allowed: readonly string[],
): PlatformErrorItem | null {
  const value = input[name];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => typeof v === 'string' && allowed.includes(v))
  ) {
    return invalid(name, `It should be a non-empty list of ${allowed.join(', ')}`);
  }
  return null;
}

function checkSpeechContexts(input: Record<string, unknown>): PlatformErrorItem | null {
  const value = input.speechContexts;
  if (value === undefined) return null;
  const ok =
    Array.isArray(value) &&
    value.every(
      (c) =>
        typeof c === 'object' &&
        c !== null &&
        Array.isArray((c as { phrases?: unknown }).phrases) &&
        (c as { phrases: unknown[] }).phrases.every((p) => typeof p === 'string'),
    );
  return ok ? null : invalid('speechContexts', 'It should be a list of {phrases: List[String]}');
}

function checkUtterances(input: Record<string, unknown>): PlatformErrorItem | null {
  const value = input.utterances;
  if (!Array.isArray(value) || value.length === 0) return invalid('utterances', 'It should be a non-empty list');
  for (const u of value) {
    if (typeof u !== 'object' || u === null || typeof (u as { text?: unknown }).text !== 'string') {
      return invalid('utterances', 'Each utterance needs a text string');
    }
    const { start, end, speakerId } = u as { start?: unknown; end?: unknown; speakerId?: unknown };
    if ((start !== undefined && typeof start !== 'number') || (end !== undefined && typeof end !== 'number')) {
      return invalid('utterances', 'start and end should be numbers (seconds)');
    }
    if (speakerId !== undefined && typeof speakerId !== 'string') {
      return invalid('utterances', 'speakerId should be a string');
    }
  }
  return null;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
