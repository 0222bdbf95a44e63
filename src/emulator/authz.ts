import type { IncomingMessage, ServerResponse } from 'node:http';
import { platformError } from '../ringcentral/platform-error.js';
import type { AuthServer } from './auth.js';
import { readJsonObject, send } from './http-io.js';

/**
 * What the platform says the app and the user may do, as far as a pre-flight (`jobhook doctor`) asks:
 * - the app scopes in the token answer's `scope` (space-separated, as the platform sends them);
 * - the user's permissions, through `GET /restapi/v1.0/account/~/extension/~/authz-profile/check?permissionId=…`
 *   (reference §12.2), answered `{uri, successful, details: {permission: {uri, id}, effectiveRole, scopes}}`.
 *
 * Both start as a fully set-up ACE developer's (every scope jobhook uses, the ACE permissions granted) and are
 * changed by the control route `POST /_emulator/authz {scopes?: string[], permissions?: string[]}`, which
 * answers the current state (`GET` reads it); `/_emulator/reset` restores the defaults. A change to the
 * scopes shows in tokens issued after it, as on the platform, where a new scope needs a new login.
 */
export const DEFAULT_APP_SCOPES: readonly string[] = Object.freeze(['AI', 'RingSense', 'SubscriptionWebhook']);
export const DEFAULT_PERMISSIONS: readonly string[] = Object.freeze([
  'ReadRingSenseInsights',
  'ReadCompanyCallRecording',
]);

export interface AuthzApi {
  /** The token answer's `scope` string. */
  scope(): string;
  /** Answers and returns true when the request is the check route or the control route. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, auth: AuthServer): Promise<boolean>;
  reset(): void;
}

const CHECK = /^\/restapi\/v1\.0\/account\/([^/]+)\/extension\/([^/]+)\/authz-profile\/check$/;
const CONTROL = '/_emulator/authz';
/** The role the emulator reports as granting a permission (a real account's role ids are numbers). */
const ROLE_ID = '1';
/** Permission ids are word characters on the platform (`ReadRingSenseInsights`); anything else is a typo. */
const PERMISSION_ID = /^\w{1,100}$/;

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && PERMISSION_ID.test(v))
    ? [...new Set(value as string[])]
    : null;
}

export function createAuthz(): AuthzApi {
  let scopes = [...DEFAULT_APP_SCOPES];
  let permissions = new Set(DEFAULT_PERMISSIONS);
  const state = () => ({ scopes, permissions: [...permissions] });

  async function control(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET') return send(res, 200, state());
    if (req.method !== 'POST') return send(res, 405, { error: 'use GET or POST' });
    const body = await readJsonObject(req);
    const nextScopes = body?.scopes === undefined ? scopes : stringList(body.scopes);
    const nextPermissions = body?.permissions === undefined ? [...permissions] : stringList(body.permissions);
    if (!body || !nextScopes || !nextPermissions) {
      return send(res, 400, {
        error: 'expected {"scopes"?: ["RingSense", …], "permissions"?: ["ReadRingSenseInsights", …]}',
      });
    }
    scopes = nextScopes;
    permissions = new Set(nextPermissions);
    return send(res, 200, state());
  }

  function check(req: IncomingMessage, res: ServerResponse, url: URL, auth: AuthServer, match: RegExpExecArray): void {
    if (req.method !== 'GET')
      return send(res, 405, platformError('CMN-405', `${req.method ?? '?'} is not allowed here`));
    const authn = auth.authenticate(req.headers.authorization);
    if (!authn.ok) return send(res, 401, platformError(authn.errorCode, authn.message));
    const [, account, extension] = match;
    // Only the caller's own extension: `~` or its id (another user's profile needs an admin's permission).
    if (extension !== '~' && extension !== authn.session.ownerId) {
      return send(res, 404, platformError('CMN-102', `Resource for parameter [extensionId] is not found`));
    }
    const permissionId = url.searchParams.get('permissionId');
    if (!permissionId || !PERMISSION_ID.test(permissionId)) {
      return send(res, 400, platformError('CMN-101', 'Parameter [permissionId] value is invalid', 'permissionId'));
    }
    const base = `http://${req.headers.host ?? 'localhost'}`;
    const uri = `${base}/restapi/v1.0/account/${account}/extension/${authn.session.ownerId}/authz-profile/check`;
    const permission = { uri: `${base}/restapi/v1.0/dictionary/permission/${permissionId}`, id: permissionId };
    const successful = permissions.has(permissionId);
    return send(res, 200, {
      uri,
      successful,
      details: successful
        ? {
            permission,
            effectiveRole: { uri: `${base}/restapi/v1.0/account/${account}/user-role/${ROLE_ID}`, id: ROLE_ID },
            scopes: ['AllExtensions'],
          }
        : { permission, scopes: [] },
    });
  }

  return {
    scope: () => scopes.join(' '),
    async handle(req, res, url, auth) {
      if (url.pathname === CONTROL) {
        await control(req, res);
        return true;
      }
      const match = CHECK.exec(url.pathname);
      if (!match) return false;
      check(req, res, url, auth, match);
      return true;
    },
    reset() {
      scopes = [...DEFAULT_APP_SCOPES];
      permissions = new Set(DEFAULT_PERMISSIONS);
    },
  };
}
