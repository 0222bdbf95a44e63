import { randomBytes } from 'node:crypto';
import type { EmulatorOptions } from './options.js';

/**
 * OAuth as the platform does it for a JWT app (reference §1): the JWT bearer grant and refresh_token
 * grant at /restapi/oauth/token with HTTP Basic client credentials, revoke at /restapi/oauth/revoke.
 * A refresh token works once; revoking any token of a session ends the session.
 */
export interface Session {
  clientId: string;
  ownerId: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresAtMs: number;
  refreshExpiresAtMs: number;
}

export type TokenResult =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; status: number; error: string; errorCode: string; message: string };

const REFRESH_TTL_S = 604_800;

function isWellFormedJwt(value: string): boolean {
  const parts = value.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof payload === 'object' && payload !== null;
  } catch {
    return false;
  }
}

function basicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | null {
  const match = /^Basic\s+(.+)$/i.exec(authorization ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

export class AuthServer {
  readonly #byAccess = new Map<string, Session>();
  readonly #byRefresh = new Map<string, Session>();
  readonly #options: () => EmulatorOptions;
  readonly #scope: () => string;

  /** `scope`: the token answer's app scopes, space-separated (authz.ts keeps them, changeable by tests). */
  constructor(options: () => EmulatorOptions, scope: () => string) {
    this.#options = options;
    this.#scope = scope;
  }

  #issue(clientId: string, ownerId: string): Session {
    const now = Date.now();
    const session: Session = {
      clientId,
      ownerId,
      accessToken: `emu-at-${randomBytes(24).toString('base64url')}`,
      refreshToken: `emu-rt-${randomBytes(24).toString('base64url')}`,
      accessExpiresAtMs: now + this.#options().accessTokenTtlS * 1000,
      refreshExpiresAtMs: now + REFRESH_TTL_S * 1000,
    };
    this.#byAccess.set(session.accessToken, session);
    this.#byRefresh.set(session.refreshToken, session);
    return session;
  }

  #end(session: Session): void {
    this.#byAccess.delete(session.accessToken);
    this.#byRefresh.delete(session.refreshToken);
  }

  #tokenBody(s: Session): Record<string, unknown> {
    return {
      access_token: s.accessToken,
      token_type: 'bearer',
      expires_in: Math.round((s.accessExpiresAtMs - Date.now()) / 1000),
      refresh_token: s.refreshToken,
      refresh_token_expires_in: REFRESH_TTL_S,
      scope: this.#scope(),
      owner_id: s.ownerId,
      endpoint_id: `emu-endpoint-${s.ownerId}`,
      session_id: `emu-session-${s.accessToken.slice(-8)}`,
    };
  }

  /** Handles a token request: `form` is the decoded form body. */
  token(authorization: string | undefined, form: URLSearchParams): TokenResult {
    const creds =
      basicCredentials(authorization) ??
      (form.get('client_id') ? { clientId: form.get('client_id')!, clientSecret: '' } : null);
    if (!creds)
      return {
        ok: false,
        status: 401,
        error: 'invalid_client',
        errorCode: 'OAU-123',
        message: 'Invalid client credentials header',
      };
    const strict = this.#options().strictClient;
    if (strict && (creds.clientId !== strict.clientId || creds.clientSecret !== strict.clientSecret)) {
      return {
        ok: false,
        status: 401,
        error: 'invalid_client',
        errorCode: 'OAU-146',
        message: 'Invalid client credentials',
      };
    }
    const grant = form.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const assertion = form.get('assertion') ?? '';
      if (!isWellFormedJwt(assertion)) {
        return {
          ok: false,
          status: 400,
          error: 'invalid_grant',
          errorCode: 'OAU-140',
          message: 'Invalid or malformed JWT assertion',
        };
      }
      const ownerId = String(100_000_000 + Buffer.from(assertion).reduce((a, b) => (a * 31 + b) % 900_000_000, 7));
      return { ok: true, body: this.#tokenBody(this.#issue(creds.clientId, ownerId)) };
    }
    if (grant === 'refresh_token') {
      const session = this.#byRefresh.get(form.get('refresh_token') ?? '');
      if (!session || session.refreshExpiresAtMs < Date.now() || session.clientId !== creds.clientId) {
        return {
          ok: false,
          status: 400,
          error: 'invalid_grant',
          errorCode: 'OAU-211',
          message: 'Token is revoked or expired',
        };
      }
      this.#end(session); // a refresh token works once; the old access token stops working too
      return { ok: true, body: this.#tokenBody(this.#issue(session.clientId, session.ownerId)) };
    }
    return {
      ok: false,
      status: 400,
      error: 'unsupported_grant_type',
      errorCode: 'OAU-250',
      message: `Unsupported grant type: ${grant ?? '(none)'}`,
    };
  }

  /** Revokes the session holding `token` (access or refresh). Unknown tokens are ignored, as clients ignore revoke errors. */
  revoke(token: string | null): void {
    if (!token) return;
    const session = this.#byAccess.get(token) ?? this.#byRefresh.get(token);
    if (session) this.#end(session);
  }

  /** The session of a Bearer header, or why there is none (401 codes of reference §1). */
  authenticate(
    authorization: string | undefined,
  ): { ok: true; session: Session } | { ok: false; errorCode: string; message: string } {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match)
      return {
        ok: false,
        errorCode: 'OAU-134',
        message: 'Invalid or missing Authorization header; a Bearer token is required',
      };
    const session = this.#byAccess.get(match[1]!);
    if (!session) return { ok: false, errorCode: 'OAU-129', message: 'Access token corrupted or revoked' };
    if (session.accessExpiresAtMs < Date.now())
      return { ok: false, errorCode: 'OAU-128', message: 'Access token expired' };
    return { ok: true, session };
  }

  reset(): void {
    this.#byAccess.clear();
    this.#byRefresh.clear();
  }
}
