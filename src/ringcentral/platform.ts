import { AsyncLocalStorage } from 'node:async_hooks';
import { SDK } from '@ringcentral/sdk';
import { ApiRejectedError, JobhookError } from '../errors.js';

/**
 * The only module that touches the official RingCentral SDK: JWT login, token refresh (the SDK refreshes
 * before a request when the access token is near expiry) and revoke on close. Every call returns the
 * platform's HTTP answer, successful or not, so callers decide about 4xx/429/5xx themselves; a request
 * that got no whole answer in time rejects with `PlatformNetworkError`.
 *
 * Login states: none → logging in (one shared attempt chain: a network failure is retried with backoff,
 * a refusal is final) → logged in (the SDK refreshes before a call from here; `ready()` refreshes earlier,
 * before the rate gate takes a grant) → none again after a failed chain, a failed refresh in `ready()`
 * (a new JWT login follows) or `close()`.
 *
 * Why the SDK gets our own `fetch`: its default is node-fetch 2, whose `clone()` tees the body into two
 * streams. The SDK clones every error answer (`Client.error`: `response.clone().json()`) and we used to
 * clone every answer; a branch that nobody reads stops at its highWaterMark and with it the other branch,
 * so any answer over about 64 KiB never finished (and, with no socket left, the process exited 0 mid-call).
 * Our fetch (Node's own) reads each answer whole, under the call's deadline, and hands the SDK a Response
 * built from those bytes, which clones without streams.
 */
export interface PlatformCredentials {
  server: string;
  clientId: string;
  clientSecret: string;
  jwt: string;
}

export interface PlatformOptions {
  /** Deadline of one call (its request and the whole answer body, plus any token refresh) and of one login attempt. @defaultValue 30_000 */
  timeoutMs?: number;
  /** Login attempts on a network failure or timeout before giving up (a refusal is not retried). @defaultValue 3 */
  loginAttempts?: number;
  /** Delay before the second login attempt, doubled per attempt. @defaultValue 1000 */
  loginRetryBaseMs?: number;
}

export interface PlatformAnswer {
  status: number;
  headers: Headers;
  /** The answer body exactly as received (after content decoding). */
  body: Buffer;
  /** `body` as UTF-8. */
  text: string;
}

export interface Platform {
  post(path: string, body: unknown, query?: Record<string, string>): Promise<PlatformAnswer>;
  get(path: string): Promise<PlatformAnswer>;
  /** The SDK's `platform.put` (a subscription's filters and lifetime, reference §4). */
  put(path: string, body: unknown): Promise<PlatformAnswer>;
  delete(path: string): Promise<PlatformAnswer>;
  /**
   * Logs in, or refreshes an access token that expires within two minutes, so that a call made right after
   * sends its request without either: the rate gate takes a grant of the shared budget only once this
   * resolved, and the grant must reach the platform within the budget's margin. Login and refresh are
   * Auth-group requests, not Heavy ones: they take no grant. Rejects as a call's login would
   * (`PlatformNetworkError` with `duringLogin`, `ApiRejectedError`). Optional for a custom platform; without
   * it the gate takes grants for calls that may still log in.
   */
  ready?(): Promise<void>;
  /** Revokes the session (errors ignored, as the platform advises). */
  close(): Promise<void>;
}

/**
 * No whole answer from the platform: connection refused or reset, DNS failure, or the deadline passed.
 * `mayHaveReachedPlatform` is false only when the request certainly never left (nothing connected), so a
 * POST is safe to send again; `duringLogin` tells a failed login (nothing of the call was sent) apart.
 */
export class PlatformNetworkError extends JobhookError {
  readonly mayHaveReachedPlatform: boolean;
  readonly duringLogin: boolean;

  constructor(message: string, options: { cause?: unknown; mayHaveReachedPlatform: boolean; duringLogin: boolean }) {
    super('JH_ERR_PLATFORM_UNREACHABLE', message, { cause: options.cause });
    this.mayHaveReachedPlatform = options.mayHaveReachedPlatform;
    this.duringLogin = options.duringLogin;
  }
}

interface SdkError extends Error {
  response?: Response | null;
}

/** What our fetch throws into the SDK: a plain Error (the SDK rewrites `message`, which a DOMException forbids). */
class FetchFailure extends Error {
  constructor(
    readonly reason: string,
    readonly mayHaveReachedPlatform: boolean,
    cause: unknown,
  ) {
    super(reason, { cause });
  }
}

/** Failures that happen before a connection exists: the request cannot have reached the platform. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Statuses whose Response may carry no body (the constructor throws otherwise). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The SDK refreshes the access token before a call once it expires within this: its default, made explicit. */
const SDK_REFRESH_HANDICAP_MS = 60_000;
/** `ready()` refreshes this much earlier than the SDK would, so the SDK does not refresh in the call after it. */
const READY_LEAD_MS = 60_000;

/** The reason in words, the system error underneath fetch's `TypeError: fetch failed` (its `code` is useful), and whether nothing was sent. */
function describeFailure(error: unknown, timeoutMs: number): { reason: string; cause: unknown; notSent: boolean } {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { reason: `no complete answer within ${timeoutMs} ms`, cause: undefined, notSent: false };
  }
  const inner = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof inner?.code === 'string' ? inner.code : undefined;
  const message = typeof inner?.message === 'string' && inner.message ? inner.message : (error as Error).message;
  return { reason: message, cause: inner ?? error, notSent: code !== undefined && NOT_SENT_CODES.has(code) };
}

export function createPlatform(credentials: PlatformCredentials, options: PlatformOptions = {}): Platform {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const loginAttempts = Math.max(1, options.loginAttempts ?? 3);
  const loginRetryBaseMs = options.loginRetryBaseMs ?? 1000;
  // The deadline of the call in progress, seen by our fetch however deep in the SDK it is called.
  const deadline = new AsyncLocalStorage<AbortSignal>();
  // The exact bytes of each answer our fetch produced, so nobody reads a body twice.
  const bodies = new WeakMap<Response, Buffer>();

  async function fetchWhole(request: Request): Promise<Response> {
    const signal = deadline.getStore() ?? AbortSignal.timeout(timeoutMs);
    let received = false;
    try {
      const response = await fetch(request, { signal });
      received = true;
      const body = Buffer.from(await response.arrayBuffer());
      const whole = new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      bodies.set(whole, body);
      return whole;
    } catch (error) {
      const { reason, cause, notSent } = describeFailure(error, timeoutMs);
      throw new FetchFailure(reason, received || !notSent, cause);
    }
  }

  const sdk = new SDK({
    server: credentials.server,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    refreshHandicapMs: SDK_REFRESH_HANDICAP_MS,
    fetch: fetchWhole as unknown as typeof fetch,
    Request,
    Response,
    Headers,
  });
  const platform = sdk.platform();

  const networkError = (error: unknown, duringLogin: boolean): PlatformNetworkError => {
    const failure = error instanceof FetchFailure ? error : null;
    const reason = failure?.reason ?? (error as Error).message;
    return new PlatformNetworkError(`cannot reach the RingCentral platform at ${credentials.server}: ${reason}`, {
      cause: failure ? failure.cause : error,
      mayHaveReachedPlatform: failure?.mayHaveReachedPlatform ?? true,
      duringLogin,
    });
  };

  const bodyOf = async (response: Response): Promise<Buffer> =>
    bodies.get(response) ?? Buffer.from(await response.arrayBuffer());

  async function logInWithRetries(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deadline.run(AbortSignal.timeout(timeoutMs), () => platform.login({ jwt: credentials.jwt }));
        return;
      } catch (error) {
        const refused = (error as SdkError).response;
        if (refused) {
          // Wrong credentials or a disabled app: retrying cannot help.
          const text = (await bodyOf(refused)).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          throw new ApiRejectedError(refused.status, parsed);
        }
        if (attempt >= loginAttempts) throw networkError(error, true);
        await sleep(loginRetryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  let login: Promise<void> | null = null;
  const ensureLogin = (): Promise<void> => {
    login ??= logInWithRetries().catch((error: unknown) => {
      login = null;
      throw error;
    });
    return login;
  };

  let renewal: Promise<void> | null = null;
  async function renew(): Promise<void> {
    try {
      await deadline.run(AbortSignal.timeout(timeoutMs), () => platform.refresh());
    } catch {
      // Refused (a revoked or expired refresh token) or unreachable: the SDK dropped the tokens, and a JWT
      // login replaces them with its own retries (it fails as a login does when the platform is away).
      login = null;
      await ensureLogin();
    }
  }

  async function ready(): Promise<void> {
    await ensureLogin();
    const expiresAtMs = (await platform.auth().data()).expire_time ?? 0;
    if (expiresAtMs - Date.now() > SDK_REFRESH_HANDICAP_MS + READY_LEAD_MS) return;
    renewal ??= renew().finally(() => {
      renewal = null;
    });
    await renewal;
  }

  async function answer(call: () => Promise<Response>): Promise<PlatformAnswer> {
    await ensureLogin();
    let response: Response;
    try {
      response = await deadline.run(AbortSignal.timeout(timeoutMs), call);
    } catch (error) {
      const failed = (error as SdkError).response;
      if (!failed) throw networkError(error, false);
      response = failed;
    }
    const body = await bodyOf(response);
    return { status: response.status, headers: response.headers, body, text: body.toString('utf8') };
  }

  return {
    post: (path, body, query) => answer(() => platform.post(path, body, query)),
    get: (path) => answer(() => platform.get(path)),
    put: (path, body) => answer(() => platform.put(path, body)),
    delete: (path) => answer(() => platform.delete(path)),
    ready,
    async close() {
      if (!login) return;
      try {
        await login;
        await deadline.run(AbortSignal.timeout(timeoutMs), () => platform.logout());
      } catch {
        // Revoke failures are ignored and not retried (reference §1).
      }
      login = null;
    },
  };
}
