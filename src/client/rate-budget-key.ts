import { createHash } from 'node:crypto';
import type { PlatformCredentials } from '../ringcentral/platform.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The budget's key: one per RingCentral app and user, as the platform counts. `heavy:` and a SHA-256 of the
 * server's origin, the client ID and the user (the JWT's `sub`; the JWT itself, hashed, when it cannot be
 * decoded), so that no secret is ever stored in clear. Without credentials (a custom `platform`) every
 * such client shares one conservative budget.
 */
export function rateBudgetKey(credentials?: Partial<PlatformCredentials>): string {
  if (!credentials?.server || !credentials.clientId || !credentials.jwt) return `heavy:${sha256('custom platform')}`;
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
  return `heavy:${sha256(JSON.stringify([server, credentials.clientId, user]))}`;
}
