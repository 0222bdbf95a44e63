import { platformError } from '../ringcentral/platform-error.js';

/**
 * The `webhook` parameter, percent-encoded or, as the official JS samples send it, raw. An encoded value
 * that does not decode is returned as sent, which is no valid URI, so the caller refuses it with 400.
 */
export function webhookParam(rawUrl: string): string | null {
  const queryAt = rawUrl.indexOf('?');
  if (queryAt < 0) return null;
  const query = rawUrl.slice(queryAt + 1);
  const match = /(?:^|&)webhook=([^]*)$/.exec(query);
  if (!match) return null;
  let value = match[1]!;
  // An encoded value ends at the next parameter; a raw URL may carry its own `&…`, so it runs to the end
  // of the query, less the emulator's own parameter.
  if (/^https?%3A/i.test(value)) {
    value = value.split('&')[0]!;
    value = decodeComponent(value) ?? value;
  } else value = value.split('&_emulator=')[0]!;
  return value;
}

/** `decodeURIComponent`, or null for malformed percent-encoding (which it throws on). */
export function decodeComponent(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The answer to a request URL that does not decode or parse: a client error, not the emulator's. */
export const MALFORMED_URL = platformError(
  'CMN-101',
  'Request URL is malformed: invalid percent-encoding or request target',
);
