import type { AsyncApiName, AsyncApiNameOf, AsyncApiRef } from '../ringcentral/apis.js';
import type * as S from '../ringcentral/schemas.js';
import type { HandlerInput } from '../handlers/handler-runner.js';

/** Fails to compile when an API of ASYNC_APIS has no entry below. */
type EveryApi<T extends Record<AsyncApiName, { input: unknown; result: unknown }>> = T;

/** The input and result type of each async API, by method name. */
export type AsyncApiTypes = EveryApi<{
  speechToText: { input: S.SpeechToTextInput; result: S.SpeechToTextResult };
  speakerDiarize: { input: S.AudioInput; result: S.SpeakerDiarizeResult };
  speakerIdentify: { input: S.SpeakerIdentifyInput; result: S.SpeakerIdentifyResult };
  analyzeInteraction: { input: S.AnalyzeInteractionInput; result: S.AnalyzeInteractionResult };
  punctuate: { input: S.PunctuateInput; result: S.PunctuateResult };
  summarize: { input: S.SummarizeInput; result: S.SummarizeResult };
  recognizeEmotion: { input: S.AudioInput; result: S.RecognizeEmotionResult };
}>;

/** The result of an API given by any accepted spelling (`speechToText`, `speech-to-text`, its path). */
export type ResultOf<R extends AsyncApiRef> = AsyncApiTypes[AsyncApiNameOf<R>]['result'];
/** The input (request body) of an API given by any accepted spelling. */
export type InputOf<R extends AsyncApiRef> = AsyncApiTypes[AsyncApiNameOf<R>]['input'];

/**
 * What a handler registered for one known API receives: `response` is that API's result when `status`
 * is `Success` (narrow on `status`), and the platform's `{errors}` shape on `Fail`.
 */
export type TypedHandlerInput<TResult> = Omit<HandlerInput, 'status' | 'response'> &
  ({ status: 'Success'; response: TResult } | { status: 'Fail'; response: unknown });
