import { createHash } from 'node:crypto';
import type { PlatformCredentials } from './platform.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The budget's key: one per RingCentral app and user, as the platform counts. `heavy:` and a SHA-256 of the
 * server's origin, the client ID and the user (the JWT's `sub`; the JWT itself, hashed, when it cannot be
 * decoded), so that no secret is ever stored in clear. Without credentials (a custom `platform`) every
 * such client shares one conservative budget.
 */
export function rateBudgetKey(credentials?: Partial<PlatformCredentials>): string {
  return `heavy:${appUserHash(credentials)}`;
}

/**
 * The Light group's budget key of the same app and user (ACE insight reads, subscription reads): `light:`
 * and the same hash as `rateBudgetKey`, so the two groups are counted apart as the platform does.
 */
export function lightRateBudgetKey(credentials?: Partial<PlatformCredentials>): string {
  return `light:${appUserHash(credentials)}`;
}

/** The Light key that goes with a Heavy key (`heavy:<hash>` → `light:<hash>`), e.g. one given in options. */
export function lightKeyFor(heavyKey: string): string {
  return heavyKey.startsWith('heavy:') ? `light:${heavyKey.slice('heavy:'.length)}` : `light:${sha256(heavyKey)}`;
}

function appUserHash(credentials?: Partial<PlatformCredentials>): string {
  if (!credentials?.server || !credentials.clientId || !credentials.jwt) return sha256('custom platform');
  let server = credentials.server.trim();
  try {
    server = new URL(server).origin;
  } catch {
    // not a URL: hashed as given
  }
  let user = `jwt:${sha256(credentials.jwt.trim())}`;
  try {
    const payload: unknown = JSON.parse(Buffer.from(credentials.jwt.split('.')[1] ?? '', 'base64url').toString());
    const sub = (payload as { sub?: unknown } | null)?.sub;
    if (typeof sub === 'string' && sub !== '') user = `sub:${sub}`;
  } catch {
    // not a decodable JWT: its hash stands for the user
  }
  return sha256(JSON.stringify([server, credentials.clientId, user]));
}
