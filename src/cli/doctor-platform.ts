import type { Config } from '../config.js';
import { ApiRejectedError, isJobhookError, JobhookError } from '../errors.js';
import { REVOKE_PATH } from '../ringcentral/apis.js';
import type { PlatformCredentials } from '../ringcentral/platform.js';
import {
  APP_SCOPES,
  authzCheckPath,
  jwtGrantRequest,
  readAuthzCheck,
  readTokenAnswer,
  RINGSENSE_PERMISSION,
  type TokenFacts,
} from '../ringcentral/preflight.js';
import { resolveCredentials } from './client.js';
import { result, type Emit } from './doctor-report.js';
import { isLoopbackHost } from './doctor-http.js';
import { EXIT } from './exit-codes.js';

/**
 * The platform half of `jobhook doctor`: credentials present and well-formed, one JWT login (its refusal's
 * `errorCode` and the fix), the app scopes the token answer states, and the user's ACE permission
 * (reference §12.2). Each step needs the one before; a step that cannot run is reported `skip`.
 */
export interface PlatformFacts {
  /** Where the credentials point; null when there are none to use. */
  server: string | null;
  /** The local emulator (made-up credentials, or a loopback RC_SERVER_URL): loopback public URLs are fine. */
  local: boolean;
}

const SET_ALL =
  'set RC_SERVER_URL, RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET and RC_USER_JWT (in the environment or a .env file)';
const SCOPE_CHECKS = APP_SCOPES.map((s) => `scope:${s.scope}`);
const PERMISSION_CHECK = `permission:${RINGSENSE_PERMISSION}`;

function isLoopbackServer(server: string): boolean {
  try {
    return isLoopbackHost(new URL(server).hostname);
  } catch {
    return false;
  }
}

/** The JWT's `exp` (RingCentral JWT credentials may carry one), when its payload says so. */
function jwtExpiry(jwt: string): Date | null {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
  } catch {
    return null;
  }
}

/** What to do about a refused login, by the OAuth `error` and the platform's code. */
function loginFix(refusal: ApiRejectedError): string {
  const oauthError = (refusal.body as { error?: unknown } | null)?.error;
  if (refusal.status === 429) return 'logins are limited (Auth group, 5 a minute): wait a minute and run doctor again';
  if (oauthError === 'invalid_client') {
    return "RC_APP_CLIENT_ID / RC_APP_CLIENT_SECRET are not this app's: copy them from the app's Credentials page in the Developer Console (sandbox and production apps differ)";
  }
  if (oauthError === 'unauthorized_client') {
    return "the app does not allow the JWT grant: set its auth to 'JWT auth flow' in the Developer Console";
  }
  if (oauthError === 'invalid_grant') {
    return 'RC_USER_JWT is refused (expired, revoked, for another environment, or not allowed for this app): create a JWT credential for this app in the Developer Console';
  }
  return `the platform refused the login; ${SET_ALL} to this app's credentials`;
}

async function readJson(response: Response): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // The headers came, the body stalled past the deadline (or the connection dropped): unreachable, with a code.
    throw new JobhookError(
      'JH_ERR_PLATFORM_UNREACHABLE',
      `the platform's answer did not arrive whole: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One JWT login, as the SDK sends it; emits `login` and returns the token's facts, or null. */
async function logIn(
  credentials: PlatformCredentials,
  local: boolean,
  timeoutMs: number,
  emit: Emit,
): Promise<TokenFacts | null> {
  const { url, init } = jwtGrantRequest(credentials);
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    emit(
      result('login', 'fail', `cannot reach ${credentials.server}: ${reason}`, {
        fix: local
          ? 'start the local emulator (jobhook dev, or jobhook emulate) or point RC_SERVER_URL at it'
          : 'check RC_SERVER_URL (https://platform.ringcentral.com, or https://platform.devtest.ringcentral.com for the sandbox) and the network (proxy, firewall)',
        exit: EXIT.unreachable,
      }),
    );
    return null;
  }
  const elapsedMs = Math.round(performance.now() - started);
  const body = await readJson(response);
  const facts = response.ok ? readTokenAnswer(body) : null;
  if (!facts) {
    const refusal = new ApiRejectedError(response.status, body);
    const said = refusal.message.replace(/^the API answered \d+( [A-Z]+-\d+)?: /, '');
    emit(
      result('login', 'fail', `the platform refused the JWT login (${response.status}): ${said}`, {
        code: refusal.errorCode,
        fix: loginFix(refusal),
        details: { status: response.status, body },
      }),
    );
    return null;
  }
  const who = facts.ownerId === null ? '' : ` as extension ${facts.ownerId}`;
  emit(result('login', 'ok', `logged in to ${credentials.server}${who} (${elapsedMs} ms)`, { details: { elapsedMs } }));
  return facts;
}

function checkScopes(facts: TokenFacts, emit: Emit): void {
  for (const { scope, consoleName, need, opens } of APP_SCOPES) {
    const check = `scope:${scope}`;
    if (facts.scopes === null) {
      emit(
        result(check, 'warn', 'the token answer states no scope: cannot tell', {
          fix: `make sure the app has "${consoleName}" in the Developer Console`,
        }),
      );
    } else if (facts.scopes.includes(scope)) {
      emit(result(check, need === 'required' ? 'ok' : 'info', `granted: ${opens}`));
    } else if (need === 'information') {
      emit(result(check, 'info', `not granted: ${opens}; ACE and subscriptions do not need it`));
    } else {
      emit(
        result(check, 'fail', `missing: no ${opens}`, {
          fix: `add "${consoleName}" to the app's permissions in the Developer Console (a production app needs a new review), then log in again`,
          details: { granted: facts.scopes },
        }),
      );
    }
  }
}

async function checkPermission(server: string, facts: TokenFacts, timeoutMs: number, emit: Emit): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL(authzCheckPath(RINGSENSE_PERMISSION), server), {
      headers: { authorization: `Bearer ${facts.accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    emit(
      result(PERMISSION_CHECK, 'fail', `the check did not complete: ${(error as Error).message}`, {
        fix: 'run doctor again',
        exit: EXIT.unreachable,
      }),
    );
    return;
  }
  const body = await readJson(response);
  const answer = response.ok ? readAuthzCheck(body) : null;
  if (!answer) {
    const refusal = new ApiRejectedError(response.status, body);
    emit(
      result(PERMISSION_CHECK, 'fail', `authz-profile/check answered ${response.status}, not a permission check`, {
        code: refusal.errorCode,
        fix: 'the app may lack the scope to read the user\'s profile ("Read Accounts"); check the permission in the Admin Portal (Users → Roles) instead',
        details: { status: response.status, body },
      }),
    );
    return;
  }
  if (answer.granted) {
    emit(
      result(
        PERMISSION_CHECK,
        'ok',
        `granted${answer.scopes.length ? ` (${answer.scopes.join(', ')})` : ''}: the user can read ACE insights`,
      ),
    );
    return;
  }
  emit(
    result(
      PERMISSION_CHECK,
      'fail',
      'the user lacks "AI Conversation Expert - Access Insights": ACE reads are refused and ACE events do not arrive',
      {
        fix: 'an account admin gives this user a role with "AI Conversation Expert - Access Insights" (and ReadCompanyCallRecording, which the event filter page names); the recording users need an ACE license',
      },
    ),
  );
}

/** Revokes the doctor's session; failures do not matter (the platform advises ignoring them). */
async function revoke(credentials: PlatformCredentials, accessToken: string): Promise<void> {
  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
  await fetch(new URL(REVOKE_PATH, credentials.server), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken }).toString(),
    signal: AbortSignal.timeout(5000),
  })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
}

export async function checkPlatform(
  config: Config,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  emit: Emit,
): Promise<PlatformFacts> {
  const skipRest = (why: string): void => {
    for (const check of ['login', ...SCOPE_CHECKS, PERMISSION_CHECK]) emit(result(check, 'skip', why));
  };
  let source;
  try {
    source = resolveCredentials(config, env);
  } catch (error) {
    if (!isJobhookError(error)) throw error;
    emit(result('credentials', 'fail', error.message, { fix: SET_ALL }));
    skipRest('not checked: no usable credentials');
    return { server: null, local: false };
  }
  if (source.kind === 'missing') {
    emit(result('credentials', 'fail', source.problem.message, { fix: SET_ALL }));
    skipRest('not checked: no usable credentials');
    return { server: null, local: false };
  }
  const { credentials } = source;
  const local = source.kind === 'emulator' || isLoopbackServer(credentials.server);
  if (source.kind === 'emulator') {
    emit(
      result(
        'credentials',
        'info',
        `none set: the local emulator at ${credentials.server}, with made-up ones (going live needs RC_* set)`,
      ),
    );
  } else {
    const expiry = jwtExpiry(credentials.jwt);
    if (expiry && expiry.getTime() <= Date.now()) {
      emit(
        result('credentials', 'fail', `RC_USER_JWT expired on ${expiry.toISOString()}`, {
          fix: 'create a new JWT credential in the Developer Console and set RC_USER_JWT to it',
        }),
      );
      skipRest('not checked: the JWT has expired');
      return { server: credentials.server, local };
    }
    const until = expiry ? `, JWT valid until ${expiry.toISOString().slice(0, 10)}` : '';
    emit(
      result(
        'credentials',
        'ok',
        `set for ${credentials.server} (client ${credentials.clientId.slice(0, 6)}…${until})`,
      ),
    );
  }
  const facts = await logIn(credentials, local, timeoutMs, emit);
  if (!facts) {
    for (const check of [...SCOPE_CHECKS, PERMISSION_CHECK]) emit(result(check, 'skip', 'not checked: no login'));
    return { server: credentials.server, local };
  }
  try {
    checkScopes(facts, emit);
    await checkPermission(credentials.server, facts, timeoutMs, emit);
  } finally {
    await revoke(credentials, facts.accessToken);
  }
  return { server: credentials.server, local };
}
