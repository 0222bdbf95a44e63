import type { Logger } from 'pino';
import { createJobhook, type Jobhook } from '../client/jobhook.js';
import type { Config } from '../config.js';
import type { PlatformCredentials } from '../ringcentral/platform.js';
import { publicBaseUrl, type Runtime } from './runtime.js';

/** Credentials of the `jobhook dev` emulator: it accepts any client and any well-formed JWT. */
export function devCredentials(server: string): PlatformCredentials {
  const part = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    server,
    clientId: 'jobhook-dev',
    clientSecret: 'jobhook-dev',
    jwt: `${part({ alg: 'none' })}.${part({ sub: 'dev' })}.dev`,
  };
}

/**
 * RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET and RC_JWT when set (a `.env` file is read at start);
 * otherwise the local `jobhook dev` emulator, so a fresh machine needs no credentials.
 */
export function credentialsFromEnv(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): { credentials: PlatformCredentials; local: boolean } {
  if (env.RC_SERVER_URL && env.RC_CLIENT_ID && env.RC_CLIENT_SECRET && env.RC_JWT) {
    return {
      credentials: {
        server: env.RC_SERVER_URL,
        clientId: env.RC_CLIENT_ID,
        clientSecret: env.RC_CLIENT_SECRET,
        jwt: env.RC_JWT,
      },
      local: false,
    };
  }
  return { credentials: devCredentials(env.RC_SERVER_URL ?? `http://127.0.0.1:${config.emulatorPort}`), local: true };
}

export function clientFor(
  runtime: Runtime,
  config: Config,
  credentials: PlatformCredentials,
  logger?: Logger,
  publicUrl?: string,
): Promise<Jobhook> {
  return createJobhook({
    store: runtime.store,
    publicUrl: publicUrl ?? publicBaseUrl(config),
    pathPrefix: config.pathPrefix,
    keyring: runtime.keyring,
    ringcentral: credentials,
    logger,
  });
}
