import { callbackUrl, type Keyring } from '../callback/callback-url.js';
import { newRequestId } from '../callback/request-id.js';
import type { Store } from '../store/store.js';
import type { RequestKind } from '../types.js';

export interface MinterOptions {
  store: Store;
  keyring: Keyring;
  /** Base URL at which RingCentral reaches the receiver, e.g. a tunnel's `https://abc.ngrok.app`. */
  publicUrl: string;
  /** Normalised callback path prefix, e.g. `/webhooks`. */
  pathPrefix: string;
}

export interface MintInput {
  /** @defaultValue 'job' */
  kind?: RequestKind;
  /** API path the URL will be submitted to, when known. */
  api?: string;
  /** The JSON body that will be submitted, as text. */
  requestBody?: string;
}

export interface MintedRequest {
  requestId: string;
  callbackUrl: string;
}

export type Mint = (input?: MintInput) => Promise<MintedRequest>;

/**
 * Makes the `mint` function: a fresh request ID and its tagged callback URL, recorded in the store
 * *before* it is returned (write-ahead), so a webhook that races the submitting call still correlates.
 *
 * @example
 * const mint = createMinter({ store, keyring, publicUrl: 'https://abc.ngrok.app', pathPrefix: '/webhooks' });
 * const { requestId, callbackUrl } = await mint({ api: '/ai/audio/v1/async/speech-to-text' });
 */
export function createMinter(options: MinterOptions): Mint {
  return async (input = {}) => {
    const requestId = newRequestId();
    const url = callbackUrl(options.keyring, options.publicUrl, options.pathPrefix, requestId);
    await options.store.createRequest({
      requestId,
      kind: input.kind ?? 'job',
      callbackUrl: url,
      api: input.api ?? null,
      requestBody: input.requestBody ?? null,
    });
    return { requestId, callbackUrl: url };
  };
}
