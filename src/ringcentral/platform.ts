import { SDK } from '@ringcentral/sdk';

/**
 * The only module that touches the official RingCentral SDK: JWT login, token refresh (the SDK refreshes
 * before a request when the access token is near expiry) and revoke on close. Every call returns the
 * platform's HTTP answer, successful or not, so callers decide about 4xx/429/5xx themselves; a request
 * that got no answer rejects with `PlatformNetworkError`.
 */
export interface PlatformCredentials {
  server: string;
  clientId: string;
  clientSecret: string;
  jwt: string;
}

export interface PlatformAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface Platform {
  post(path: string, body: unknown, query?: Record<string, string>): Promise<PlatformAnswer>;
  get(path: string): Promise<PlatformAnswer>;
  /** Revokes the session (errors ignored, as the platform advises). */
  close(): Promise<void>;
}

export class PlatformNetworkError extends Error {
  override readonly name = 'PlatformNetworkError';
}

interface SdkError extends Error {
  response?: Response | null;
}

export function createPlatform(credentials: PlatformCredentials): Platform {
  const sdk = new SDK({
    server: credentials.server,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
  });
  const platform = sdk.platform();
  let login: Promise<unknown> | null = null;
  const ensureLogin = (): Promise<unknown> => {
    login ??= platform.login({ jwt: credentials.jwt }).catch((error: unknown) => {
      login = null;
      throw error;
    });
    return login;
  };

  async function answer(call: () => Promise<Response>): Promise<PlatformAnswer> {
    await ensureLogin();
    let response: Response;
    try {
      response = await call();
    } catch (error) {
      const failed = (error as SdkError).response;
      if (!failed) throw new PlatformNetworkError((error as Error).message, { cause: error });
      response = failed;
    }
    return { status: response.status, headers: response.headers, text: await response.clone().text() };
  }

  return {
    post: (path, body, query) => answer(() => platform.post(path, body, query)),
    get: (path) => answer(() => platform.get(path)),
    async close() {
      if (!login) return;
      try {
        await login;
        await platform.logout();
      } catch {
        // Revoke failures are ignored and not retried (reference §1).
      }
      login = null;
    },
  };
}
