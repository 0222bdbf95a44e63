import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import pg from 'pg';
import { JobhookError } from '../../errors.js';
import { isConnectionError, isRetryable, toStoreError } from './errors.js';

/** The database's clock in Unix ms, evaluated once per statement (an uncorrelated subquery is an InitPlan). */
export const NOW_MS = '(SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint)';

export interface DatabaseOptions {
  connectionString: string;
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  onProblem?: (error: JobhookError) => void;
}

/**
 * BIGINT (timestamps, ids, counts) and NUMERIC (sums) as JS numbers: every value jobhook stores fits in
 * 2^53. Set on this pool only, not on the driver globally, which the host application may also use.
 */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, Number);
types.setTypeParser(pg.types.builtins.NUMERIC, Number);

/** `options` startup parameter: the server splits it on spaces, with backslash as the escape. */
function searchPathOption(schema: string): string {
  const quoted = pg.escapeIdentifier(schema).replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
  // synchronous_commit on whatever the server's default: a receipt is acknowledged only once its commit is
  // on disk (a role or database set to `off` would otherwise make the 200 a promise the server can break).
  return `-c search_path=${quoted} -c synchronous_commit=on`;
}

/** A stable 64-bit key per schema, for advisory locks and channel names (instances must agree on it). */
export function schemaKey(schema: string, purpose: string): string {
  return createHash('sha256').update(`jobhook:${purpose}:${schema}`).digest('hex');
}

/** TCP keepalive from 10 s of silence on: the OS default (7200 s) would leave a dead flow unnoticed for hours. */
const KEEPALIVE_DELAY_MS = 10_000;

/**
 * The pool and what the store knows about reaching it. States of `problem`: null (the last attempt
 * reached the database) → a message (a connection-level failure; a cheap `SELECT 1` probe then runs every
 * second, unref'd) → null again as soon as any statement or the probe succeeds: no restart needed.
 * A pool merely busy (every connection checked out past the connect timeout) is not a connection-level
 * failure, and the probe opens a connection of its own: a saturated pool neither turns health red nor
 * keeps it red while the server answers.
 */
export class Database {
  readonly pool: pg.Pool;
  readonly schema: string;
  #closed = false;
  #problem: string | null = null;
  #probe: NodeJS.Timeout | null = null;
  #probing = false;
  readonly #options: DatabaseOptions;

  constructor(options: DatabaseOptions) {
    this.#options = options;
    this.schema = options.schema;
    this.pool = new pg.Pool({
      ...this.clientConfig('jobhook'),
      max: options.poolSize,
      statement_timeout: options.statementTimeoutMs,
      // The server's timeout cannot fire when the server is gone without closing the socket: the driver's
      // own, a little later, fails the call (and the connection is destroyed, see `#once`).
      query_timeout: options.statementTimeoutMs + 5000,
      // Like the SQLite store: an idle pool does not keep a CLI command's process alive.
      allowExitOnIdle: true,
      // A JS stall mid-transaction must not hold row locks for ever.
      idle_in_transaction_session_timeout: Math.max(60_000, options.statementTimeoutMs * 2),
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits here; without a listener the process would crash.
    this.pool.on('error', (error) => {
      this.noteFailure(error);
    });
  }

  /** The settings every connection of this store uses (the pool's, the LISTEN client's, migrations'). */
  clientConfig(applicationName: string): pg.ClientConfig {
    // pg lets the URL's parameters replace the config's: a URL `options=` (a statement_timeout, say) would
    // silently drop jobhook's search_path and synchronous_commit. Take it out of the URL and put jobhook's
    // settings after the user's, so ours win where they overlap.
    const { connectionString, userOptions } = splitOptions(this.#options.connectionString);
    return {
      connectionString,
      options: [userOptions, searchPathOption(this.#options.schema)].filter(Boolean).join(' '),
      application_name: applicationName,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      types,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get problem(): string | null {
    return this.#problem;
  }

  /** Throws JH_ERR_STORE_CLOSED once closed. */
  assertOpen(): void {
    if (this.#closed) throw new JobhookError('JH_ERR_STORE_CLOSED', 'the store is closed');
  }

  /** One statement, in its own implicit transaction. */
  async query<R extends pg.QueryResultRow>(
    what: string,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      const result = await this.pool.query<R>(text, values);
      this.noteSuccess();
      return result;
    } catch (error) {
      throw this.#fail(error, what);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection; deadlocks and serialization failures (and `retryOn`)
   * run it again from the start, a few times. `fn` must keep no state across attempts.
   */
  async tx<T>(
    what: string,
    fn: (client: pg.PoolClient) => Promise<T>,
    options: { retryOn?: (error: unknown) => boolean } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.assertOpen();
      try {
        return await this.#once(fn);
      } catch (error) {
        const retry = isRetryable(error) || options.retryOn?.(error) === true;
        if (retry && attempt < 5 && !this.#closed) {
          await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
          continue;
        }
        throw this.#fail(error, what);
      }
    }
  }

  async #once<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // Between statements nothing listens on a checked-out client: a connection dying then would crash.
    let broken: unknown = null;
    const onError = (error: unknown): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      this.noteSuccess();
      return result;
    } catch (error) {
      if (broken === null && !isConnectionError(error)) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
      } else broken ??= error;
      throw error;
    } finally {
      client.removeListener('error', onError);
      // A client whose connection broke is destroyed, not handed to the next caller.
      client.release(broken === null ? undefined : (broken as Error));
    }
  }

  #fail(error: unknown, what: string): JobhookError {
    if (this.#closed && !(error instanceof JobhookError)) {
      return new JobhookError('JH_ERR_STORE_CLOSED', 'the store is closed', { cause: error });
    }
    if (isConnectionError(error)) this.noteFailure(error);
    return toStoreError(error, what);
  }

  noteSuccess(): void {
    if (this.#problem === null) return;
    this.#problem = null;
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
  }

  noteFailure(error: unknown): void {
    if (this.#closed) return;
    const first = this.#problem === null;
    this.#problem = `the database is unreachable: ${(error as Error).message}`;
    if (!this.#probe) {
      this.#probe = setInterval(() => void this.#runProbe(), 1000);
      this.#probe.unref();
    }
    if (first) this.#options.onProblem?.(new JobhookError('JH_ERR_STORE_UNAVAILABLE', this.#problem, { cause: error }));
  }

  /** On a short-lived client outside the pool, which may be full of statements waiting on locks. */
  async #runProbe(): Promise<void> {
    // A probe still connecting (up to connectTimeoutMs) is not doubled by the next tick.
    if (this.#closed || this.#probing) return;
    this.#probing = true;
    const client = new pg.Client({
      ...this.clientConfig('jobhook-probe'),
      query_timeout: this.#options.connectTimeoutMs,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      this.noteSuccess();
      void client.end().catch(() => undefined);
    } catch (error) {
      if (isConnectionError(error)) this.noteFailure(error);
      // Not a polite goodbye: a server that never answered would never answer that either.
      (client.connection.stream as Partial<Socket>).destroy?.();
    } finally {
      this.#probing = false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
    await this.pool.end().catch(() => undefined);
  }
}

/** The URL without its `options` parameter, and that parameter's value (libpq's `-c name=value …`). */
export function splitOptions(connectionString: string): { connectionString: string; userOptions: string } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, userOptions: '' }; // a libpq key=value string: pg reads it as given
  }
  const userOptions = url.searchParams.get('options') ?? '';
  if (!url.searchParams.has('options')) return { connectionString, userOptions };
  url.searchParams.delete('options');
  return { connectionString: url.toString(), userOptions };
}
