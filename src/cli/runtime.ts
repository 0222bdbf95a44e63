import { pino, type Logger } from 'pino';
import { createKeyring, generateSecret, type Keyring } from '../callback/callback-url.js';
import { createMinter, type Mint } from '../client/minter.js';
import type { Config } from '../config.js';
import { prettyDestination } from './log-format.js';
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
  const store = new SqliteStore({
    path: config.dbPath,
    onProblem: (error) =>
      logger.fatal(
        { err: error, db: config.dbPath },
        `the database file ${config.dbPath} was removed or replaced; restart jobhook`,
      ),
  });
  const keyring = createKeyring(await store.ensureSecrets(generateSecret));
  return { store, keyring };
}

export function publicBaseUrl(config: Config, listeningPort = config.port): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listeningPort}`;
}

export function minterFor(runtime: Runtime, config: Config, publicUrl = publicBaseUrl(config)): Mint {
  return createMinter({ store: runtime.store, keyring: runtime.keyring, publicUrl, pathPrefix: config.pathPrefix });
}
