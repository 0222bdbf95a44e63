import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { JobhookError } from '../errors.js';
import type { RequestKind } from '../types.js';
import { isRequestId } from './request-id.js';

/**
 * Callback URLs are `<publicUrl><pathPrefix>/<requestId>/<tag>`, where the tag is a truncated
 * HMAC-SHA256 of the request ID under the installation's secret. The API documents no signature on its
 * callbacks, so the URL itself is the credential: a URL this installation did not mint is rejected
 * before the store is touched.
 *
 * Rotation: the newest secret mints, every secret in the keyring verifies.
 *
 * A URL minted for a push-notification subscription carries a tag under another HMAC context, so the
 * receiver tells the two kinds apart from the URL alone (no store read) and a job URL can never be passed
 * off as a subscription one, or the reverse.
 */

/** Domain separation: a tag for one purpose never verifies for another. */
const TAG_CONTEXTS: Readonly<Record<RequestKind, string>> = {
  job: 'jobhook/callback/v1:',
  subscription: 'jobhook/callback/subscription/v1:',
};
const KINDS = Object.keys(TAG_CONTEXTS) as RequestKind[];
const TAG_BYTES = 16; // 128 bits
const TAG_CHARS = 22; // base64url of 16 bytes, unpadded
const SECRET_BYTES = 32;

/** Secrets newest first; `keys[0]` mints. */
export interface Keyring {
  readonly keys: readonly Buffer[];
}

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function createKeyring(secrets: readonly string[]): Keyring {
  if (secrets.length === 0) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'a keyring needs at least one secret');
  }
  return Object.freeze({ keys: Object.freeze(secrets.map((s) => Buffer.from(s, 'base64url'))) });
}

function tagFor(key: Buffer, requestId: string, kind: RequestKind): Buffer {
  return createHmac('sha256', key)
    .update(TAG_CONTEXTS[kind] + requestId)
    .digest()
    .subarray(0, TAG_BYTES);
}

/** Normalises a path prefix to `/segment[/segment…]` with no trailing slash. */
export function normalizePathPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || !/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `path prefix must be one or more URL path segments, like /webhooks (got ${JSON.stringify(prefix)})`,
    );
  }
  return `/${trimmed}`;
}

/** The path of a request's callback, e.g. `/webhooks/0190…/Xk3…`. */
export function callbackPath(
  keyring: Keyring,
  pathPrefix: string,
  requestId: string,
  kind: RequestKind = 'job',
): string {
  const tag = tagFor(keyring.keys[0]!, requestId, kind).toString('base64url');
  return `${pathPrefix}/${requestId}/${tag}`;
}

/** The full callback URL under a public base URL (which may itself carry a path, e.g. a reverse proxy's). */
export function callbackUrl(
  keyring: Keyring,
  publicUrl: string,
  pathPrefix: string,
  requestId: string,
  kind: RequestKind = 'job',
): string {
  return publicUrl.replace(/\/+$/, '') + callbackPath(keyring, pathPrefix, requestId, kind);
}

export interface MintedPath {
  requestId: string;
  /** What the URL was minted for: its tag verifies under this kind's context only. */
  kind: RequestKind;
}

/**
 * Checks a job callback path against the keyring. Returns the request ID, or `null` for anything this
 * installation did not mint as a job URL (a subscription URL included). The query string is ignored.
 */
export function verifyCallbackPath(keyring: Keyring, pathPrefix: string, path: string): string | null {
  const minted = verifyMintedPath(keyring, pathPrefix, path);
  return minted?.kind === 'job' ? minted.requestId : null;
}

/**
 * Checks a request path against the keyring for every kind. Pure: no I/O, the same work whatever matches.
 * Returns the request ID and the kind it was minted for, or `null` for anything this installation did not
 * mint. The query string is ignored.
 */
export function verifyMintedPath(keyring: Keyring, pathPrefix: string, path: string): MintedPath | null {
  const queryAt = path.indexOf('?');
  const pathOnly = queryAt === -1 ? path : path.slice(0, queryAt);
  const expectedLength = pathPrefix.length + 1 + 36 + 1 + TAG_CHARS;
  if (pathOnly.length !== expectedLength || !pathOnly.startsWith(pathPrefix + '/')) return null;
  const requestId = pathOnly.slice(pathPrefix.length + 1, pathPrefix.length + 37);
  if (pathOnly[pathPrefix.length + 37] !== '/' || !isRequestId(requestId)) return null;
  // UTF-8, not latin1: latin1 would fold a character such as U+0141 onto 'A' (paths parsed off the wire
  // never hold one, but this function is public).
  const presented = Buffer.from(pathOnly.slice(pathPrefix.length + 38), 'utf8');
  if (presented.length !== TAG_CHARS) return null;
  let match: RequestKind | null = null;
  // Compare the text, not decoded bytes: base64url's last character has spare bits, so decoding would
  // accept several spellings of one tag. Every key and kind is checked, even after a match, so timing
  // reveals neither which key nor which kind matched.
  for (const kind of KINDS) {
    for (const key of keyring.keys) {
      const expected = Buffer.from(tagFor(key, requestId, kind).toString('base64url'), 'utf8');
      if (timingSafeEqual(presented, expected)) match = kind;
    }
  }
  return match === null ? null : { requestId, kind: match };
}
