import { callbackUrl, type Keyring } from '../callback/callback-url.js';
import { newRequestId } from '../callback/request-id.js';
import { verificationTokenFor } from '../callback/verification-token.js';
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

/** A subscription's delivery address, with the `deliveryMode.verificationToken` to create it with. */
export interface MintedSubscription extends MintedRequest {
  /** Derived from the request ID and the installation's secret, never stored: the receiver recomputes it. */
  verificationToken: string;
}

export interface Mint {
  (input: MintInput & { kind: 'subscription' }): Promise<MintedSubscription>;
  (input?: MintInput): Promise<MintedRequest>;
}

/**
 * Makes the `mint` function: a fresh request ID and its tagged callback URL, recorded in the store
 * *before* it is returned (write-ahead), so a webhook that races the submitting call still correlates.
 * For `kind: 'subscription'` the URL's tag is of the subscription kind (the receiver then requires the
 * `Verification-Token` header on notifications) and the result carries the token to create it with.
 *
 * @example
 * const mint = createMinter({ store, keyring, publicUrl: 'https://abc.ngrok.app', pathPrefix: '/webhooks' });
 * const { requestId, callbackUrl } = await mint({ api: '/ai/audio/v1/async/speech-to-text' });
 * const { callbackUrl: address, verificationToken } = await mint({ kind: 'subscription' });
 */
export function createMinter(options: MinterOptions): Mint {
  const mint = async (input: MintInput = {}): Promise<MintedRequest | MintedSubscription> => {
    const kind = input.kind ?? 'job';
    const requestId = newRequestId();
    const url = callbackUrl(options.keyring, options.publicUrl, options.pathPrefix, requestId, kind);
    await options.store.createRequest({
      requestId,
      kind,
      callbackUrl: url,
      api: input.api ?? null,
      requestBody: input.requestBody ?? null,
    });
    if (kind === 'job') return { requestId, callbackUrl: url };
    return { requestId, callbackUrl: url, verificationToken: verificationTokenFor(options.keyring, requestId) };
  };
  return mint as Mint;
}
