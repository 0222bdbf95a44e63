import type { Logger } from 'pino';
import { createJobhook, jwtShapeProblem, type Jobhook } from '../client/jobhook.js';
import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import type { PlatformCredentials } from '../ringcentral/platform.js';
import { publicBaseUrl, type CallbackBase, type Runtime } from './runtime.js';

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
 * Each credential's variables, the developer guide's name first (RingCentral's `code-samples/env-template`),
 * then jobhook's older short name as an alias. When both are set the guide's name wins.
 */
const VARIABLES = {
  server: ['RC_SERVER_URL'],
  clientId: ['RC_APP_CLIENT_ID', 'RC_CLIENT_ID'],
  clientSecret: ['RC_APP_CLIENT_SECRET', 'RC_CLIENT_SECRET'],
  jwt: ['RC_USER_JWT', 'RC_JWT'],
} as const satisfies Record<keyof PlatformCredentials, readonly string[]>;

type Field = keyof typeof VARIABLES;
const FIELDS = Object.keys(VARIABLES) as Field[];
const named = (field: Field): string => {
  const [guide, alias] = VARIABLES[field] as readonly string[];
  return alias ? `${guide} (or ${alias})` : guide!;
};

/** `http://127.0.0.1:8787`, `http://localhost:…`, `http://[::1]:…`: where a `jobhook dev`/`emulate` runs. */
function isLoopbackUrl(server: string): boolean {
  let host: string;
  try {
    host = new URL(server).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The budget against a local emulator that states no limit of its own. */
const LOCAL_EMULATOR_BUDGET = { capacity: 100_000, windowMs: 1000 };

export type CredentialSource =
  /** Every variable set: the platform (or emulator) they name. */
  | { kind: 'configured'; credentials: PlatformCredentials }
  /** None set and the server is on loopback: the emulator's made-up credentials, which go nowhere else. */
  | { kind: 'emulator'; credentials: PlatformCredentials }
  /** None set but RC_SERVER_URL names a remote platform: nothing can be sent there. */
  | { kind: 'missing'; server: string; problem: JobhookError };

/**
 * Reads the RingCentral credentials from the environment (which already holds the `.env` file, see
 * env-file.ts). Made-up credentials are only ever sent to a local emulator: a partial set is a mistake
 * to report, not a reason to fall back, and so is a remote RC_SERVER_URL with no credentials.
 */
export function resolveCredentials(config: Config, env: NodeJS.ProcessEnv = process.env): CredentialSource {
  const source: Partial<Record<Field, string>> = {};
  const values: Partial<Record<Field, string>> = {};
  for (const field of FIELDS) {
    // An empty value counts as unset: `RC_JWT=` is how a template leaves a credential out.
    const name = VARIABLES[field].find((n) => env[n]);
    if (name) {
      source[field] = name;
      values[field] = env[name];
    }
  }
  const secrets: Field[] = ['clientId', 'clientSecret', 'jwt'];
  if (secrets.some((f) => values[f] !== undefined)) {
    const missing = FIELDS.filter((f) => values[f] === undefined);
    if (missing.length > 0) {
      const set = FIELDS.filter((f) => values[f] !== undefined).map((f) => source[f]!);
      throw new JobhookError(
        'JH_ERR_INVALID_CONFIG',
        `RingCentral credentials are incomplete: ${missing.map(named).join(', ')} not set (${set.join(', ')} ${set.length === 1 ? 'is' : 'are'}); ` +
          'set all four, or none to use the local emulator',
      );
    }
    const problem = jwtShapeProblem(values.jwt!);
    if (problem) {
      const name = source.jwt === 'RC_USER_JWT' ? 'RC_USER_JWT' : `${source.jwt} (RC_USER_JWT)`;
      throw new JobhookError('JH_ERR_INVALID_CONFIG', `${name} is not a JWT: ${problem}`);
    }
    return { kind: 'configured', credentials: values as PlatformCredentials };
  }
  const server = values.server ?? `http://127.0.0.1:${config.emulatorPort}`;
  if (isLoopbackUrl(server)) return { kind: 'emulator', credentials: devCredentials(server) };
  return {
    kind: 'missing',
    server,
    problem: new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `RC_SERVER_URL is ${server} but ${FIELDS.filter((f) => f !== 'server')
        .map(named)
        .join(', ')} are not set; ` +
        'without them jobhook talks only to a local emulator (RC_SERVER_URL on 127.0.0.1, or unset)',
    ),
  };
}

/**
 * `submit` and `reconcile`: the configured credentials (`local: false`), or the local emulator's made-up
 * ones when none are set and the server is on loopback (`local: true`); anything else is
 * JH_ERR_INVALID_CONFIG before any network call.
 */
export function credentialsFromEnv(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): { credentials: PlatformCredentials; local: boolean } {
  const source = resolveCredentials(config, env);
  if (source.kind === 'missing') throw source.problem;
  return { credentials: source.credentials, local: source.kind === 'emulator' };
}

export function clientFor(
  runtime: Runtime,
  config: Config,
  credentials: PlatformCredentials,
  logger?: Logger,
  base: Partial<CallbackBase> = {},
): Promise<Jobhook> {
  return createJobhook({
    store: runtime.store,
    publicUrl: base.publicUrl ?? publicBaseUrl(config),
    pathPrefix: base.pathPrefix ?? config.pathPrefix,
    keyring: runtime.keyring,
    ringcentral: credentials,
    // RingCentral's Heavy group allows 10 a minute unless the account was granted more (--rate-budget). A
    // loopback server is a local emulator: unlimited unless it says otherwise in its X-Rate-Limit headers,
    // which the gate adopts.
    rateBudget: config.rateBudget ?? (isLoopbackUrl(credentials.server) ? LOCAL_EMULATOR_BUDGET : undefined),
    logger,
  });
}
