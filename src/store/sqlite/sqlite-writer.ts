import type Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';
import { ATTEMPT_BUSY_TIMEOUT_MS, isBusyError, pauseBeforeRetry } from './busy.js';
import { FileGuard } from './file-guard.js';
import { createCheckpointer, WAL_SIZE_LIMIT_BYTES, type Checkpointer } from './wal-maintenance.js';

export interface SqliteWriterOptions {
  path: string;
  busyTimeoutMs: number;
  checkpointIdleMs: number;
  fileCheckIntervalMs: number;
  onProblem: ((error: JobhookError) => void) | undefined;
}

/**
 * The store's write path: every write transaction goes through `write`, which
 * - refuses fsync'd commits once the database or WAL file was removed or replaced (see FileGuard),
 * - waits for another process's lock asynchronously, up to `busyTimeoutMs` per call, instead of inside
 *   SQLite's synchronous busy handler (which froze the event loop and stacked one batch's wait on the next),
 * - asks for a WAL checkpoint once writes pause (see wal-maintenance.ts).
 *
 * States: open (writes run) → lost (a file was removed or replaced: every write throws
 * JH_ERR_STORE_UNAVAILABLE until a restart; terminal) ; either → stopped (the store closed).
 */
export class SqliteWriter {
  readonly #db: Database.Database;
  readonly #busyTimeoutMs: number;
  readonly #guard: FileGuard | null;
  readonly #checkpointer: Checkpointer;
  readonly #probe: NodeJS.Timeout | null = null;
  readonly #onProblem: ((error: JobhookError) => void) | undefined;
  #lost: JobhookError | null = null;

  /** Call right after the connection is open and migrated, while its busy timeout is still the full one. */
  constructor(db: Database.Database, options: SqliteWriterOptions) {
    this.#db = db;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#onProblem = options.onProblem;
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    this.#checkpointer = createCheckpointer(db, {
      idleMs: options.checkpointIdleMs,
      retryMs: Math.max(options.checkpointIdleMs, 1000),
      canRun: () => this.#lost === null,
    });
    // Fold in a WAL left behind by a crash or by a close on a full disk before anything is appended to it.
    this.#checkpointer.checkpoint();
    db.pragma(`busy_timeout = ${ATTEMPT_BUSY_TIMEOUT_MS}`);
    this.#guard = FileGuard.watch(options.path);
    if (this.#guard) {
      this.#probe = setInterval(() => this.#checkFiles(), options.fileCheckIntervalMs);
      this.#probe.unref();
    }
  }

  /**
   * Runs `fn` in an IMMEDIATE transaction, retried while another connection holds the lock until
   * `busyTimeoutMs` after the call; any database failure becomes JH_ERR_STORE_UNAVAILABLE so callers can
   * answer 503. `open` is called before each attempt, so a store closed meanwhile throws JH_ERR_STORE_CLOSED.
   * `fsync: false` is for data derivable from what is already durable (the index): its commit skips the
   * fsync (`synchronous = NORMAL`, still atomic), and the next durable commit flushes it, in order.
   */
  async write<T>(open: () => unknown, what: string, fn: () => T, { fsync = true } = {}): Promise<T> {
    const deadlineMs = Date.now() + this.#busyTimeoutMs;
    for (;;) {
      open();
      // Every fsync'd commit checks first: a stat costs microseconds, a lost acknowledgement costs a result.
      if (fsync) this.#checkFiles();
      if (this.#lost) throw this.#lost;
      const attempt = this.#attempt(fn, fsync);
      if (attempt.ok) {
        this.#checkpointer.touch();
        return attempt.value;
      }
      const { error, started } = attempt;
      if (error instanceof JobhookError) throw error;
      const busy = isBusyError(error);
      // Only a lock refused at BEGIN IMMEDIATE is retried: `fn` had not run, so running it again cannot
      // repeat its side effects outside the (rolled back) transaction.
      if (busy && !started && Date.now() < deadlineMs) {
        await pauseBeforeRetry(deadlineMs);
        continue;
      }
      // A constraint (a request ID already taken) is the caller's conflict, not an outage: no 503 for it.
      if (isConstraintError(error)) {
        throw new JobhookError('JH_ERR_STORE_CONFLICT', `cannot ${what}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const waited = busy ? ` (another connection held the lock for over ${this.#busyTimeoutMs} ms)` : '';
      throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot ${what}: ${(error as Error).message}${waited}`, {
        cause: error,
      });
    }
  }

  /** One synchronous attempt; the pragma is restored before any await, so no other write runs under it. */
  #attempt<T>(fn: () => T, fsync: boolean): { ok: true; value: T } | { ok: false; error: unknown; started: boolean } {
    const db = this.#db;
    let started = false;
    try {
      if (!fsync) db.pragma('synchronous = NORMAL');
      const value = db
        .transaction(() => {
          started = true;
          return fn();
        })
        .immediate();
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error, started };
    } finally {
      if (!fsync) db.pragma('synchronous = FULL');
    }
  }

  /** Why writes are refused for good (a file was removed or replaced), or null. Checks the files now. */
  get problem(): string | null {
    this.#checkFiles();
    return this.#lost?.message ?? null;
  }

  /** Stops the probe and checkpoint timers; the caller closes the connection (which checkpoints too). */
  stop(): void {
    if (this.#probe) clearInterval(this.#probe);
    this.#checkpointer.stop();
  }

  #checkFiles(): void {
    if (this.#lost || !this.#guard) return;
    const problem = this.#guard.check();
    if (problem === null) return;
    this.#lost = new JobhookError(
      'JH_ERR_STORE_UNAVAILABLE',
      `${problem}; writes are refused because SQLite would keep committing into the old file and lose them: ` +
        'restart jobhook (put the file back first if it was moved by mistake)',
    );
    this.#onProblem?.(this.#lost);
  }
}

function isConstraintError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}
