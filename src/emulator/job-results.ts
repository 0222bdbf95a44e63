import type { AsyncApiName } from '../ringcentral/apis.js';
import type { PlatformErrorItem } from '../ringcentral/platform-error.js';
import { buildConversation } from './results/conversation.js';
import {
  analyzeInteractionResult,
  recognizeEmotionResult,
  speakerDiarizeResult,
  speakerIdentifyResult,
  speechToTextResult,
} from './results/audio-results.js';
import { punctuateResult, summarizeResult, type SummaryUnit } from './results/text-results.js';

/** What a finished job produced: the `response` of a Success envelope, or the errors of a Fail one. */
export type JobOutcome =
  { status: 'Success'; response: unknown } | { status: 'Fail'; response: { errors: PlatformErrorItem[] } };

export interface ResultContext {
  seed: string;
  durationS?: number;
  /** Speaker ids enrolled with enough speech to identify. */
  isEnrolledComplete: (speakerId: string) => boolean;
}

/** Computes a job's outcome from its validated input. Deterministic for a given input and seed. */
export function computeOutcome(api: AsyncApiName, input: Record<string, unknown>, ctx: ResultContext): JobOutcome {
  if (api === 'punctuate') return { status: 'Success', response: punctuateResult(input.texts as string[]) };
  if (api === 'summarize') {
    return {
      status: 'Success',
      response: summarizeResult({
        summaryType: input.summaryType as string,
        utterances: input.utterances as SummaryUnit[],
      }),
    };
  }
  const contentUri = input.contentUri as string;
  const seed = `${ctx.seed}\u0000${contentUri}`;
  const conversation = buildConversation(contentUri, ctx.seed, ctx.durationS);
  switch (api) {
    case 'speechToText':
      return { status: 'Success', response: speechToTextResult(input, conversation) };
    case 'speakerDiarize':
      return { status: 'Success', response: speakerDiarizeResult(conversation) };
    case 'analyzeInteraction':
      return { status: 'Success', response: analyzeInteractionResult(input, conversation, seed) };
    case 'recognizeEmotion':
      return { status: 'Success', response: recognizeEmotionResult(conversation, seed) };
    case 'speakerIdentify': {
      const ids = input.speakerIds as string[];
      const missing = ids.find((id) => !ctx.isEnrolledComplete(id));
      if (missing !== undefined) {
        return failure(
          'CAI-101',
          `Speaker [${missing}] is not enrolled, or its enrollment is not complete`,
          'speakerIds',
        );
      }
      return { status: 'Success', response: speakerIdentifyResult(ids, conversation) };
    }
  }
}

export function failure(errorCode: string, message: string, parameterName?: string): JobOutcome {
  return {
    status: 'Fail',
    response: {
      errors: [parameterName === undefined ? { errorCode, message } : { errorCode, message, parameterName }],
    },
  };
}
