import type { JobhookError } from '../../errors.js';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /**
   * How long one write call waits for another process's lock before it fails with JH_ERR_STORE_UNAVAILABLE.
   * The wait is asynchronous (short attempts, event loop free between them); opening and migrating wait
   * synchronously up to this long.
   * @defaultValue 1000
   */
  busyTimeoutMs?: number;
  /**
   * How long writes must pause before the WAL is checkpointed and truncated (see wal-maintenance.ts).
   * @defaultValue 500
   */
  checkpointIdleMs?: number;
  /**
   * How often the database and WAL files are checked for removal or replacement between writes
   * (every fsync'd write also checks first).
   * @defaultValue 1000
   */
  fileCheckIntervalMs?: number;
  /**
   * Told once when the store stops accepting writes for good (its file was removed or replaced); every
   * write then fails with this same error. Nothing is logged by the store itself.
   * @defaultValue undefined
   */
  onProblem?: (error: JobhookError) => void;
  /**
   * How often the store looks for settlements committed by other processes while someone listens.
   * @defaultValue 200
   */
  watchIntervalMs?: number;
  /**
   * A process that stops heartbeating for this long is taken for stopped: its submissions in flight are
   * marked `unknown` by the next `markInterruptedSubmissions`. (A process of this machine that has exited is
   * noticed at once.)
   * @defaultValue 30_000
   */
  instanceLeaseMs?: number;
}
