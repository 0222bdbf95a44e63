import { parseArgs } from 'node:util';
import { normalizeAcceptPaths } from './callback/accepted-path.js';
import { normalizePathPrefix } from './callback/callback-url.js';
import { parseRateLimit, type EmulatorConfig } from './emulator/options.js';
import {
  argumentError,
  invalid,
  isLoopback,
  parseCount,
  parseDuration,
  parseLogFormat,
  parseMediaUrl,
  parseHttpUrl,
  parseLifetime,
  parsePort,
  parsePublicUrl,
  parseSize,
  describeDatabase,
  parseDatabase,
  type DatabaseTarget,
} from './config-values.js';
import { parseEmulatorOptions } from './config-emulator.js';
import { JobhookError } from './errors.js';

export { didYouMean, parseSize } from './config-values.js';

/**
 * The only place that reads argv and the environment. Precedence: flag > `JOBHOOK_*` variable > default.
 * The result is validated once and frozen.
 */
export interface Config {
  /** Interface of the public webhook listener. */
  readonly host: string;
  readonly port: number;
  /** Interface and port of the local listener (inspector page and JSON API); loopback unless a token is set. */
  readonly localHost: string;
  readonly localPort: number;
  readonly localToken: string | null;
  /** Base URL RingCentral uses to reach the receiver; derived from host and port when unset. */
  readonly publicUrl: string | null;
  /**
   * The database as the user named it: a SQLite file path, or a `postgres://` URL (its password hidden
   * here, so messages can print it); `database` says which.
   */
  readonly dbPath: string;
  readonly database: DatabaseTarget;
  /** Read commands: the database must exist already (a SQLite file, a migrated PostgreSQL schema). */
  readonly databaseMustExist?: boolean;
  readonly pathPrefix: string;
  readonly maxBodyBytes: number;
  readonly logLevel: LogLevel;
  /** `pretty` (one readable line per event) or `json` (pino's lines); null: pretty when stderr is a terminal. */
  readonly logFormat: 'pretty' | 'json' | null;
  readonly json: boolean;
  readonly state: string | null;
  readonly api: string | null;
  /** `mint --kind`: `job` or `subscription` (validated by the command). @defaultValue 'job' */
  readonly kind: string;
  readonly limit: number;
  /** `submit`: media URL for audio endpoints. */
  readonly contentUri: string | null;
  /** `submit`: JSON body file, or `-` for stdin. */
  readonly bodyFile: string | null;
  /** `submit`/`enroll create`: the audio encoding, when the URL's extension does not tell it. */
  readonly encoding: string | null;
  /** `submit --wait`/`wait`: write the full result to this file instead of printing it. */
  readonly outFile: string | null;
  readonly wait: boolean;
  /** `submit --wait`: how long to wait. */
  readonly timeoutMs: number;
  /** `reconcile`: check pending jobs older than this (0 = all). */
  readonly olderThanMs: number;
  /** `serve`/`dev`: open a tunnel of this kind (`ngrok`) to the public receiver and use its URL. */
  readonly tunnel: string | null;
  /** `export`: output format. */
  readonly format: string;
  /** `serve`/`dev`: forward each result's stored bytes, signed, to this URL. */
  readonly forwardTo: string | null;
  /**
   * `serve`/`dev`: on SIGTERM/SIGINT, how long in-flight deliveries and forwards get before they are cut
   * off (senders and leases retry them); past it plus a small margin the process exits 1 regardless.
   */
  readonly shutdownTimeoutMs: number;
  /** The shared Heavy-group budget (`--rate-budget 10/min`); null: RingCentral's default (10/min), or the local emulator's own. */
  readonly rateBudget: { capacity: number; windowMs: number } | null;
  /** How long a forward (handler run) is this instance's before another may take it over (`--handler-lease`). */
  readonly handlerLeaseMs: number;
  /** `dev`: port of the embedded emulator. */
  readonly emulatorPort: number;
  /**
   * `serve`/`dev`: fixed callback paths taken as they are (`--accept /webhook`, repeatable; JOBHOOK_ACCEPT
   * comma-separated), for code that builds its own callback URL; what arrives there is unverified.
   * @defaultValue []
   */
  readonly acceptPaths: readonly string[];
  /** The `.env` file named by `--env-file`/JOBHOOK_ENV_FILE (read by `envFileFrom` before parsing). @defaultValue null */
  readonly envFile: string | null;
  /** `jobhook emulate`: the settings given on the command line (defaults fill the rest). */
  readonly emulator: Readonly<EmulatorConfig>;
  /** `subscribe --filter` (repeatable): the event filters to subscribe to. @defaultValue [] */
  readonly filters: readonly string[];
  /** `subscribe --name`: the subscription's local name; null: derived from the filters (`ace` for `subscribe ace`). */
  readonly name: string | null;
  /** `subscribe --expires-in`: the lifetime asked for, in seconds; null: the maximum. */
  readonly expiresInS: number | null;
  /**
   * `subscribe`/`serve`/`dev`: the largest `expiresIn` sent (the spec's WebHook maximum, 10 years; larger
   * values are clamped). @defaultValue 315_360_000
   */
  readonly maxExpiresInS: number;
  /** `subscribe ace --domains pbx,rcv` (validated by the command); null: all five. */
  readonly domains: readonly string[] | null;
  /** `subscribe --replace`: replace a kept subscription of the same name. */
  readonly replace: boolean;
  /** `serve`/`dev`: how often the subscription keeper checks the kept subscriptions. @defaultValue 60_000 */
  readonly keeperIntervalMs: number;
  /**
   * Options given by flag or environment variable rather than defaulted: `mint`/`submit` take the URL a
   * running server recorded unless the user named one.
   */
  readonly explicit: ReadonlySet<string>;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Invocation {
  command: string | null;
  args: string[];
  help: boolean;
  version: boolean;
  config: Config;
}

/** Each option: its flag, its environment variable (if any) and its default, in one table. */
const OPTIONS = {
  host: { type: 'string', env: 'JOBHOOK_HOST', default: '127.0.0.1' },
  port: { type: 'string', env: 'JOBHOOK_PORT', default: '3000' },
  'local-port': { type: 'string', env: 'JOBHOOK_LOCAL_PORT', default: '4040' },
  'local-host': { type: 'string', env: 'JOBHOOK_LOCAL_HOST', default: '127.0.0.1' },
  'local-token': { type: 'string', env: 'JOBHOOK_LOCAL_TOKEN', default: undefined },
  'public-url': { type: 'string', env: 'JOBHOOK_PUBLIC_URL', default: undefined },
  db: { type: 'string', env: 'JOBHOOK_DB', default: './jobhook.db' },
  'path-prefix': { type: 'string', env: 'JOBHOOK_PATH_PREFIX', default: '/webhooks' },
  'max-body': { type: 'string', env: 'JOBHOOK_MAX_BODY', default: '64MiB' },
  'log-level': { type: 'string', env: 'JOBHOOK_LOG_LEVEL', default: 'info' },
  'log-format': { type: 'string', env: 'JOBHOOK_LOG_FORMAT', default: undefined },
  state: { type: 'string', env: undefined, default: undefined },
  api: { type: 'string', env: undefined, default: undefined },
  kind: { type: 'string', env: undefined, default: 'job' },
  limit: { type: 'string', env: undefined, default: '50' },
  'content-uri': { type: 'string', env: undefined, default: undefined },
  body: { type: 'string', env: undefined, default: undefined },
  encoding: { type: 'string', env: undefined, default: undefined },
  out: { type: 'string', env: undefined, default: undefined },
  wait: { type: 'boolean', env: undefined, default: undefined },
  timeout: { type: 'string', env: undefined, default: '10m' },
  'older-than': { type: 'string', env: undefined, default: '5m' },
  'emulator-port': { type: 'string', env: 'JOBHOOK_EMULATOR_PORT', default: '8787' },
  'forward-to': { type: 'string', env: 'JOBHOOK_FORWARD_TO', default: undefined },
  accept: { type: 'string', env: 'JOBHOOK_ACCEPT', default: undefined, multiple: true },
  'env-file': { type: 'string', env: 'JOBHOOK_ENV_FILE', default: undefined },
  'shutdown-timeout': { type: 'string', env: 'JOBHOOK_SHUTDOWN_TIMEOUT', default: '10s' },
  'rate-budget': { type: 'string', env: 'JOBHOOK_RATE_BUDGET', default: undefined },
  'handler-lease': { type: 'string', env: 'JOBHOOK_HANDLER_LEASE', default: '60s' },
  format: { type: 'string', env: undefined, default: 'json' },
  tunnel: { type: 'string', env: 'JOBHOOK_TUNNEL', default: undefined },
  latency: { type: 'string', env: undefined, default: undefined },
  'fail-rate': { type: 'string', env: undefined, default: undefined },
  'drop-rate': { type: 'string', env: undefined, default: undefined },
  'duplicate-rate': { type: 'string', env: undefined, default: undefined },
  'unavailable-rate': { type: 'string', env: undefined, default: undefined },
  delay: { type: 'string', env: undefined, default: undefined },
  reorder: { type: 'boolean', env: undefined, default: undefined },
  'reorder-window': { type: 'string', env: undefined, default: undefined },
  'rate-limit': { type: 'string', env: undefined, default: undefined },
  retries: { type: 'string', env: undefined, default: undefined },
  'retry-backoff': { type: 'string', env: undefined, default: undefined },
  'attempt-timeout': { type: 'string', env: undefined, default: undefined },
  seed: { type: 'string', env: undefined, default: undefined },
  'strict-client': { type: 'boolean', env: undefined, default: undefined },
  'subscription-limit': { type: 'string', env: undefined, default: undefined },
  'blacklist-after': { type: 'string', env: undefined, default: undefined },
  'notify-timeout': { type: 'string', env: undefined, default: undefined },
  'notify-retries': { type: 'string', env: undefined, default: undefined },
  'ace-delay': { type: 'string', env: undefined, default: undefined },
  'reminder-period': { type: 'string', env: undefined, default: undefined },
  filter: { type: 'string', env: undefined, default: undefined, multiple: true },
  name: { type: 'string', env: undefined, default: undefined },
  'expires-in': { type: 'string', env: undefined, default: undefined },
  'max-expires-in': { type: 'string', env: 'JOBHOOK_MAX_EXPIRES_IN', default: '315360000' },
  domains: { type: 'string', env: undefined, default: undefined },
  replace: { type: 'boolean', env: undefined, default: undefined },
  'keeper-interval': { type: 'string', env: 'JOBHOOK_KEEPER_INTERVAL', default: '60s' },
  json: { type: 'boolean', env: undefined, default: undefined },
  help: { type: 'boolean', env: undefined, default: undefined },
  version: { type: 'boolean', env: undefined, default: undefined },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Every flag and the environment variable behind it (for documentation checks). */
export function optionTable(): { flag: string; env: string | undefined }[] {
  return Object.entries(OPTIONS).map(([name, spec]) => ({ flag: `--${name}`, env: spec.env }));
}

/**
 * `--env-file`/JOBHOOK_ENV_FILE, read before `parseInvocation` because the file it names may set other
 * `JOBHOOK_*` variables. Lenient: `parseInvocation` reports any other problem with the arguments.
 */
export function envFileFrom(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: { 'env-file': { type: 'string' } },
  });
  const flag = values['env-file'];
  if (typeof flag === 'string') return flag;
  return env.JOBHOOK_ENV_FILE ? env.JOBHOOK_ENV_FILE : null;
}

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(OPTIONS).map(([name, o]) => [
          name,
          { type: o.type, ...(name === 'help' ? { short: 'h' } : {}), ...('multiple' in o ? { multiple: true } : {}) },
        ]),
      ) as Record<OptionName, { type: 'string' | 'boolean'; multiple?: boolean }>,
    });
  } catch (error) {
    throw argumentError(error, Object.keys(OPTIONS));
  }
  const values = parsed.values as Partial<Record<OptionName, string | boolean | string[]>>;
  const explicit = new Set<string>();
  const pick = (name: OptionName): string | undefined => {
    const flag = values[name];
    if (typeof flag === 'string') {
      explicit.add(name);
      return flag;
    }
    const spec = OPTIONS[name];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      explicit.add(name);
      return fromEnv;
    }
    return spec.default;
  };
  const [command, ...args] = parsed.positionals;

  const logLevel = pick('log-level')!;
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw invalid('--log-level', logLevel, LOG_LEVELS.join(', '));
  }
  const publicUrl = pick('public-url');
  // `--db` wins; then JOBHOOK_DATABASE_URL (the name PostgreSQL deployments use), then JOBHOOK_DB.
  // Set but empty is a deployment's missing secret, not "use the default": each instance would quietly
  // receive into a SQLite file of its own.
  if (typeof values.db !== 'string' && env.JOBHOOK_DATABASE_URL !== undefined && !env.JOBHOOK_DATABASE_URL.trim()) {
    throw invalid('JOBHOOK_DATABASE_URL', env.JOBHOOK_DATABASE_URL, 'a postgres:// URL (unset it to use SQLite)');
  }
  const database = parseDatabase(
    typeof values.db === 'string' || !env.JOBHOOK_DATABASE_URL ? pick('db')! : env.JOBHOOK_DATABASE_URL,
  );
  if (typeof values.db !== 'string' && env.JOBHOOK_DATABASE_URL) explicit.add('db');
  const forwardTo = pick('forward-to');
  const config: Config = {
    host: pick('host')!,
    // The emulator listens where RingCentral's samples expect a local server, not on the receiver's port.
    port: parsePort(
      '--port',
      command === 'emulate'
        ? ((values.port as string | undefined) ?? env.JOBHOOK_EMULATOR_PORT ?? '8787')
        : pick('port')!,
    ),
    localHost: pick('local-host')!,
    localPort: parsePort('--local-port', pick('local-port')!),
    localToken: pick('local-token') ?? null,
    publicUrl: publicUrl === undefined ? null : parsePublicUrl(publicUrl),
    dbPath: describeDatabase(database),
    database,
    pathPrefix: normalizePathPrefix(pick('path-prefix')!),
    maxBodyBytes: parseSize('--max-body', pick('max-body')!),
    logLevel: logLevel as LogLevel,
    logFormat: parseLogFormat(pick('log-format')),
    json: values.json === true,
    state: pick('state') ?? null,
    api: pick('api') ?? null,
    kind: pick('kind')!,
    limit: parseCount('--limit', pick('limit')!),
    contentUri: pick('content-uri') === undefined ? null : parseMediaUrl(pick('content-uri')!),
    bodyFile: pick('body') ?? null,
    encoding: pick('encoding') ?? null,
    outFile: pick('out') ?? null,
    wait: values.wait === true,
    timeoutMs: parseDuration('--timeout', pick('timeout')!),
    olderThanMs: parseDuration('--older-than', pick('older-than')!),
    emulatorPort: parsePort('--emulator-port', pick('emulator-port')!),
    format: pick('format')!,
    tunnel: pick('tunnel') ?? null,
    forwardTo: forwardTo === undefined ? null : parseHttpUrl('--forward-to', forwardTo),
    shutdownTimeoutMs: parseDuration('--shutdown-timeout', pick('shutdown-timeout')!),
    rateBudget: parseRateBudget(pick('rate-budget')),
    handlerLeaseMs: parseLease(pick('handler-lease')!),
    // Flags replace the variable rather than add to it, as every other flag does.
    acceptPaths: Object.freeze(
      normalizeAcceptPaths(
        Array.isArray(values.accept)
          ? values.accept
          : (env.JOBHOOK_ACCEPT ?? '')
              .split(',')
              .map((p) => p.trim())
              .filter((p) => p !== ''),
      ),
    ),
    envFile: pick('env-file') ?? null,
    filters: Object.freeze(Array.isArray(values.filter) ? values.filter : []),
    name: pick('name') ?? null,
    expiresInS: pick('expires-in') === undefined ? null : parseLifetime('--expires-in', pick('expires-in')!),
    maxExpiresInS: parseLifetime('--max-expires-in', pick('max-expires-in')!),
    domains:
      pick('domains') === undefined
        ? null
        : Object.freeze(
            pick('domains')!
              .split(',')
              .map((d) => d.trim())
              .filter((d) => d !== ''),
          ),
    replace: values.replace === true,
    keeperIntervalMs: parseKeeperInterval(pick('keeper-interval')!),
    emulator: Object.freeze(parseEmulatorOptions(values, env)),
    explicit,
  };
  if (config.tunnel !== null && config.publicUrl !== null) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      '--tunnel and --public-url exclude each other: the tunnel decides the public URL',
    );
  }
  if (!isLoopback(config.localHost) && !config.localToken) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `--local-host ${config.localHost} exposes the inspector beyond this machine: set --local-token (or JOBHOOK_LOCAL_TOKEN) too`,
    );
  }
  return {
    command: command ?? null,
    args,
    help: values.help === true,
    version: values.version === true,
    config: Object.freeze(config),
  };
}

/** `--rate-budget 10/min`: requests per window, as RingCentral states a group's limit. */
function parseRateBudget(value: string | undefined): { capacity: number; windowMs: number } | null {
  if (value === undefined) return null;
  const parsed = parseRateLimit(value);
  if (!parsed || parsed.limit < 1)
    throw invalid('--rate-budget', value, 'requests per window such as 10/min or 40/60s');
  return { capacity: parsed.limit, windowMs: parsed.windowMs };
}

/** A lease shorter than a second would hand a forward to a second instance while the first still sends it. */
function parseLease(value: string): number {
  const ms = parseDuration('--handler-lease', value);
  if (ms < 1000) throw invalid('--handler-lease', value, 'a duration of at least 1s, such as 60s');
  return ms;
}

/** A keeper checking more often than every second would spend the Light group's budget on lists. */
function parseKeeperInterval(value: string): number {
  const ms = parseDuration('--keeper-interval', value);
  if (ms < 1000) throw invalid('--keeper-interval', value, 'a duration of at least 1s, such as 60s');
  return ms;
}
