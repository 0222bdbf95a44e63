import { pino, type Logger } from 'pino';
import { createKeyring, generateSecret, type Keyring } from '../callback/callback-url.js';
import { createMinter, type Mint } from '../client/minter.js';
import type { Config } from '../config.js';
import { readAdvertisedServer } from './advertised-server.js';
import { prettyDestination } from './log-format.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';

/** The composition root's shared pieces: one logger per process, the store and the keyring. */
export function createLogger(config: Config): Logger {
  // Logs go to stderr so that stdout carries only command output (`--json` stays parseable).
  const stderr = pino.destination({ fd: 2, sync: true });
  // A person at a terminal reads lines; a pipe (a file, a collector, a test) gets JSON unless asked otherwise.
  const pretty = (config.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json')) === 'pretty';
  return pino({ level: config.logLevel, base: { name: 'jobhook' } }, pretty ? prettyDestination(stderr) : stderr);
}

export interface Runtime {
  store: Store;
  keyring: Keyring;
}

/**
 * Opens the store and its keyring. `logger` hears, once, that the database file was removed or replaced:
 * the store then refuses every write, and only a restart (which opens the file now at the path) recovers.
 */
export async function openRuntime(config: Config, logger: Logger = createLogger(config)): Promise<Runtime> {
  const store = await openStore(config, logger);
  const keyring = createKeyring(await store.ensureSecrets(generateSecret));
  return { store, keyring };
}

/**
 * SQLite for a file path (embedded, the default), PostgreSQL for a `postgres://` URL (shared by a fleet).
 * Their problems reach the log once each: a SQLite file removed or replaced needs a restart; PostgreSQL
 * going away does not (the store answers 503 meanwhile and recovers when the database answers again).
 */
export async function openStore(config: Config, logger: Logger): Promise<Store> {
  const { database } = config;
  if (database.kind === 'postgres') {
    // `?schema=` is jobhook's own parameter (several deployments, or tests, in one database); the rest is libpq's.
    const url = new URL(database.url);
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return PostgresStore.open({
      connectionString: url.toString(),
      schema,
      existingOnly: config.databaseMustExist === true,
      onProblem: (error) =>
        logger.error(
          { err: error, db: config.dbPath },
          'the PostgreSQL database stopped answering; receipts are refused (503) until it is back',
        ),
    });
  }
  return new SqliteStore({
    path: database.path,
    onProblem: (error) =>
      logger.fatal(
        { err: error, db: config.dbPath },
        `the database file ${config.dbPath} was removed or replaced; restart jobhook`,
      ),
  });
}

export function publicBaseUrl(config: Config, listeningPort = config.port): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listeningPort}`;
}

export function minterFor(
  runtime: Runtime,
  config: Config,
  publicUrl = publicBaseUrl(config),
  pathPrefix = config.pathPrefix,
): Mint {
  return createMinter({ store: runtime.store, keyring: runtime.keyring, publicUrl, pathPrefix });
}

export interface CallbackBase {
  publicUrl: string;
  pathPrefix: string;
}

/**
 * Where `mint`/`submit` point callback URLs when they run beside a server: the public URL and prefix the
 * user named (flag or variable) win; otherwise those the running `serve`/`dev` recorded in the store; only
 * without either, the defaults — with a warning, since a server elsewhere would refuse those URLs.
 */
export async function callbackBaseFor(
  runtime: Runtime,
  config: Config,
  warn: (line: string) => void,
): Promise<CallbackBase> {
  const named = ['public-url', 'host', 'port'].some((o) => config.explicit.has(o));
  const recorded = await readAdvertisedServer(runtime.store);
  const publicUrl = named || !recorded ? publicBaseUrl(config) : recorded.publicUrl;
  const pathPrefix = config.explicit.has('path-prefix') || !recorded ? config.pathPrefix : recorded.pathPrefix;
  if (!named && !recorded) {
    warn(
      `no jobhook serve has recorded its public URL in ${config.dbPath}; minting for ${publicUrl}${pathPrefix} ` +
        '(start serve with this --db first, or pass --public-url)',
    );
  } else if (!named && recorded?.stale) {
    warn(`the jobhook serve that recorded ${recorded.publicUrl} (pid ${recorded.pid}) is not running; minting for it`);
  }
  return { publicUrl, pathPrefix };
}
