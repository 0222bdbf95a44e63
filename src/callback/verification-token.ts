import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from './callback-url.js';

/**
 * A push-notification subscription's `deliveryMode.verificationToken`, which RingCentral sends back in the
 * `Verification-Token` header of every notification. It is derived from the subscription URL's request ID
 * under the installation's secret, so nothing needs storing: the receiver recomputes it from the URL.
 *
 * Its own HMAC context keeps it apart from the URL tag (knowing one never gives the other), and it is
 * truncated to 192 bits, 32 base64url characters: the platform documents no length limit for the field
 * (reference §2.1), the emulator caps it at 64, and RingCentral echoes it in a header of every notification.
 *
 * Rotation: the newest secret derives, every secret in the keyring verifies, so subscriptions created
 * before a rotation keep delivering.
 */
const TOKEN_CONTEXT = 'jobhook/subscription/verification-token/v1:';
const TOKEN_BYTES = 24;
export const VERIFICATION_TOKEN_CHARS = 32; // base64url of 24 bytes, unpadded

function tokenFor(key: Buffer, requestId: string): string {
  return createHmac('sha256', key)
    .update(TOKEN_CONTEXT + requestId)
    .digest()
    .subarray(0, TOKEN_BYTES)
    .toString('base64url');
}

/** The verification token to give RingCentral when creating the subscription minted as `requestId`. */
export function verificationTokenFor(keyring: Keyring, requestId: string): string {
  return tokenFor(keyring.keys[0]!, requestId);
}

/**
 * Whether `presented` is the token of `requestId` under any key of the keyring. Compared as text (as
 * with URL tags, decoding base64url would accept several spellings), in constant time, every key checked
 * even after a match. Only the length, which is public, ends the check early.
 */
export function verifyVerificationToken(keyring: Keyring, requestId: string, presented: string): boolean {
  // UTF-8, not latin1: latin1 would fold a character such as U+0141 onto 'A'.
  const bytes = Buffer.from(presented, 'utf8');
  if (bytes.length !== VERIFICATION_TOKEN_CHARS) return false;
  let match = false;
  for (const key of keyring.keys) {
    if (timingSafeEqual(bytes, Buffer.from(tokenFor(key, requestId), 'utf8'))) match = true;
  }
  return match;
}
