import type { PlatformCredentials } from './platform.js';
import { TOKEN_PATH } from './apis.js';

/**
 * What a pre-flight asks the platform, as pure facts and parsers (`jobhook doctor` sends the requests):
 * the JWT grant whose answer states the app's scopes, and the user's permission check (reference §12.2).
 *
 * Why not through `Platform`: a pre-flight wants the platform's first answer to one login, word for word —
 * its `errorCode` on refusal, its `scope` on success — with no retry in between and one Auth-group request
 * (5 a minute), and `Platform` exposes neither the token answer nor a single attempt.
 */

/** The app scopes (Developer Console, "App permissions") jobhook's features use, and what each one opens. */
export interface AppScope {
  /** As the token answer's `scope` spells it. */
  scope: string;
  /** As the Developer Console names it. */
  consoleName: string;
  /** `required`: a jobhook feature cannot work without it; `information`: reported, never a problem. */
  need: 'required' | 'information';
  opens: string;
}

export const APP_SCOPES: readonly AppScope[] = Object.freeze([
  {
    scope: 'RingSense',
    consoleName: 'RingSense',
    need: 'required',
    opens: 'ACE insights events and the ACE REST reads',
  },
  {
    scope: 'SubscriptionWebhook',
    consoleName: 'Webhook Subscriptions',
    need: 'required',
    opens: 'webhook subscriptions',
  },
  {
    scope: 'AI',
    consoleName: 'AI',
    need: 'information',
    // Reference, Addendum: no new app gets it since 2026-04-28.
    opens: 'AI API jobs (closed to new apps since 2026-04-28)',
  },
]);

/** The user permission ACE's API needs ("AI Conversation Expert - Access Insights", reference §0, §11.2). */
export const RINGSENSE_PERMISSION = 'ReadRingSenseInsights';

/** `GET` this to learn whether the logged-in user holds `permissionId` (reference §12.2). */
export function authzCheckPath(permissionId: string): string {
  return `/restapi/v1.0/account/~/extension/~/authz-profile/check?permissionId=${encodeURIComponent(permissionId)}`;
}

/** The JWT bearer grant exactly as the SDK sends it: HTTP Basic client credentials, a form body. */
export function jwtGrantRequest(credentials: PlatformCredentials): { url: string; init: RequestInit } {
  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
  return {
    url: new URL(TOKEN_PATH, credentials.server).toString(),
    init: {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: credentials.jwt,
      }).toString(),
    },
  };
}

/** What a successful token answer tells a pre-flight; null when it is not one (no `access_token`). */
export interface TokenFacts {
  accessToken: string;
  /** The `scope` words; null when the answer has no `scope` at all. */
  scopes: readonly string[] | null;
  ownerId: string | null;
}

export function readTokenAnswer(body: unknown): TokenFacts | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  if (typeof record.access_token !== 'string' || record.access_token === '') return null;
  return {
    accessToken: record.access_token,
    scopes: typeof record.scope === 'string' ? record.scope.split(/\s+/).filter((s) => s !== '') : null,
    ownerId:
      typeof record.owner_id === 'string' || typeof record.owner_id === 'number' ? String(record.owner_id) : null,
  };
}

/** The answer of `authz-profile/check`; null when the body is not that shape. */
export interface AuthzCheck {
  granted: boolean;
  /** Whose data the permission reaches (`AllExtensions`, `Self`…); empty when not granted. */
  scopes: readonly string[];
}

export function readAuthzCheck(body: unknown): AuthzCheck | null {
  if (typeof body !== 'object' || body === null) return null;
  const { successful, details } = body as { successful?: unknown; details?: { scopes?: unknown } };
  if (typeof successful !== 'boolean') return null;
  const scopes = Array.isArray(details?.scopes) ? details.scopes.filter((s): s is string => typeof s === 'string') : [];
  return { granted: successful, scopes };
}
