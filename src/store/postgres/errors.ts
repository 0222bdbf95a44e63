import { JobhookError } from '../../errors.js';

/**
 * How a failure of the `pg` driver or of PostgreSQL becomes a JobhookError. The receiver answers 503 only
 * for JH_ERR_STORE_UNAVAILABLE, so the split matters: the database (or the way to it) failing is
 * unavailable and worth retrying later; a statement refused for what it asked (a taken key, a value the
 * column does not take) is a conflict, and retrying it would fail the same way.
 */

/** Node's socket errors on the way to the server (refused, reset, unreachable, DNS). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not taking connections: admin/crash shutdown (57P01–57P03),
 * too many connections (53300), out of memory or disk (53xxx), and the whole connection-exception class 08.
 */
const UNAVAILABLE_STATES = /^(08|53|57P0[1-4])/;

/** The driver's own messages for a connection that broke or never came up. */
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|not queryable|Client was closed|Connection ended|Query read timeout/i;

/**
 * pg-pool's answer when every connection stayed checked out for the whole connect timeout (it says this only
 * with the pool at its `max`): the database may be answering fine, this process is just asking too much.
 */
const POOL_BUSY_MESSAGE = /timeout exceeded when trying to connect/i;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the failure says nothing about the statement, only that the database could not be reached. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined && (SOCKET_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  if (CONNECTION_MESSAGES.test(error.message)) return true;
  // AggregateError (happy eyeballs over several addresses) carries the socket errors inside.
  return error instanceof AggregateError && error.errors.some(isConnectionError);
}

/** True when no pooled connection came free in time (the error itself or the cause of a JobhookError). */
export function isPoolBusy(error: unknown): boolean {
  const inner = error instanceof JobhookError ? error.cause : error;
  return inner instanceof Error && POOL_BUSY_MESSAGE.test(inner.message);
}

/** Deadlocks and serialization failures: the whole transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40P01' || code === '40001';
}

/** Data exceptions (22xxx) and integrity violations (23xxx): the caller asked for something refused. */
function isCallerError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && /^(22|23)/.test(code);
}

/** Maps any failure of `what` to a JobhookError; a JobhookError passes through unchanged. */
export function toStoreError(error: unknown, what: string): JobhookError {
  if (error instanceof JobhookError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isCallerError(error)) {
    return new JobhookError('JH_ERR_STORE_CONFLICT', `cannot ${what}: ${message}`, { cause: error });
  }
  // Everything else (the server unreachable, a statement timeout, a lock wait cancelled) is the database
  // not doing its part right now: retried later it may pass.
  const detail = isConnectionError(error)
    ? `the database is unreachable (${message})`
    : isPoolBusy(error)
      ? `the pool is busy, every connection stayed in use for the whole connect timeout (${message})`
      : message;
  return new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot ${what}: ${detail}`, { cause: error });
}
