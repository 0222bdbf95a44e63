import type Database from 'better-sqlite3';

/**
 * WAL size, the numbers and why:
 * - SQLite's automatic checkpoint (PASSIVE, after a commit once the WAL holds 1000 pages, ~4 MiB at the
 *   4 KiB page size) copies pages back but never shrinks the file: without a limit the WAL keeps its
 *   largest size forever (a 64 MiB delivery leaves a 64 MiB WAL). `journal_size_limit` truncates it to
 *   the limit each time it is reset, so under a steady load it stays near 4 MiB plus one batch.
 * - After writes stop for `idleMs`, a TRUNCATE checkpoint folds everything into the database and cuts
 *   the WAL to 0 bytes. Then, if the volume fills, the WAL holds only what arrived since the last quiet
 *   moment, so freeing that much space is enough to commit again: a checkpoint must grow the database
 *   by every page the WAL holds before the WAL can be reused, and a large WAL left behind on a full disk
 *   eats the freed space and refills it (even across a restart, since a close on a full disk cannot
 *   checkpoint either).
 * A checkpoint that cannot finish (a reader still uses the WAL, SQLITE_BUSY, a full disk) is retried
 * after `retryMs`; it never waits longer than the connection's short busy timeout.
 */
export const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

export interface Checkpointer {
  /** A write committed: checkpoint once the store has been idle for a moment. */
  touch(): void;
  /** Runs a TRUNCATE checkpoint now; true when the WAL was fully folded in and truncated. */
  checkpoint(): boolean;
  stop(): void;
}

export function createCheckpointer(
  db: Database.Database,
  options: { idleMs: number; retryMs: number; canRun: () => boolean },
): Checkpointer {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const arm = (delayMs: number): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!checkpoint()) arm(options.retryMs);
    }, delayMs);
    // A pending checkpoint never keeps the process alive.
    timer.unref();
  };

  function checkpoint(): boolean {
    if (stopped || !options.canRun()) return true;
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    } catch {
      // SQLITE_BUSY or SQLITE_FULL: the WAL is still intact and will be checkpointed later.
      return false;
    }
  }

  return {
    touch: () => arm(options.idleMs),
    checkpoint,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
