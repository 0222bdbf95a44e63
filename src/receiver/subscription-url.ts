import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Keyring } from '../callback/callback-url.js';
import { verifyVerificationToken } from '../callback/verification-token.js';

/**
 * What the receiver adds on a URL minted for a push-notification subscription. RingCentral signs nothing
 * (reference §10): besides the URL tag, the only proof a notification comes from the subscription jobhook
 * created is the `Verification-Token` header, which must equal the token derived for the URL's request ID.
 * The creation handshake needs no token (the platform sends one only if the subscription has one), so it
 * is told apart by its shape alone: `Validation-Token` and an empty body (reference §0, §3).
 */
export type TokenRefusal = 'verification-token-missing' | 'verification-token-mismatch';

/** Why a notification on a subscription URL is refused, or null when it carries its subscription's token. */
export function checkVerificationToken(
  keyring: Keyring,
  requestId: string,
  headers: IncomingHttpHeaders,
): TokenRefusal | null {
  // The docs page at HEAD calls the header `Validation-Token` (a documentation error, reference §0): take
  // that spelling too when `Verification-Token` is absent; it has to hold the same secret either way.
  const presented = headers['verification-token'] ?? headers['validation-token'];
  if (presented === undefined) return 'verification-token-missing';
  if (typeof presented !== 'string' || !verifyVerificationToken(keyring, requestId, presented)) {
    return 'verification-token-mismatch';
  }
  return null;
}

/**
 * The longest `Validation-Token` echoed. RingCentral's are UUID-like; echoing any size let one request make
 * the answer exceed the 1024 bytes every answer must stay under (and reflect whatever a sender put there).
 */
export const MAX_VALIDATION_TOKEN_CHARS = 512;

/**
 * The handshake answer: 200, the token echoed, `Content-Type: application/json` (the docs' advice against
 * SUB-525), no body, no `Date`: the whole answer must stay under 1024 bytes. A token longer than
 * `MAX_VALIDATION_TOKEN_CHARS` is no handshake: 400, empty.
 */
export function answerHandshake(res: ServerResponse, validationToken: string): void {
  res.sendDate = false;
  if (validationToken.length > MAX_VALIDATION_TOKEN_CHARS) {
    res.writeHead(400, { 'content-length': '0' });
    res.end();
    return;
  }
  res.writeHead(200, {
    'validation-token': validationToken,
    'content-type': 'application/json',
    'content-length': '0',
  });
  res.end();
}
