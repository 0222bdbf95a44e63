import { JobhookError } from '../../errors.js';
import type { SubmitState } from '../../types.js';
import { isProcessAlive, processSpace } from '../machine.js';
import { NOW_MS, type Database } from './database.js';

/**
 * Submissions in flight across a fleet. A `submitting` row names its owner; the owner's liveness is its
 * heartbeat in `instances` (renewed every `instanceLeaseMs / 6` while the store is open, from its first
 * submission on, and deleted when it closes). `markInterrupted` marks `unknown` only submissions whose
 * owner's heartbeat is older than `instanceLeaseMs`, or whose owner is a process of this process space
 * (`processSpace()`: host, boot and pid namespace, so a container sharing the host name does not count)
 * that has exited, as the SQLite store does: another live process's submission is never touched
 * (`jobhook submit` beside `jobhook dev`).
 *
 * States of the heartbeat: off (no submission yet) → beating (row upserted, then periodically; failures
 * are ignored, the next beat retries) → stopped (close: timer cleared, row deleted).
 */
export class PgSubmissions {
  #heartbeat: NodeJS.Timeout | null = null;
  #registered: Promise<void> | null = null;
  #stopped = false;

  constructor(
    readonly db: Database,
    readonly owner: string,
    readonly instanceLeaseMs: number,
  ) {}

  async update(requestId: string, update: { state: SubmitState; jobId?: string; error?: string }): Promise<void> {
    if (update.state === 'submitting') await this.#ensureHeartbeat();
    const result = await this.db.query(
      'record the submission',
      `UPDATE requests SET submit_state = $2, job_id = COALESCE(job_id, $3), submit_error = $4,
         submit_owner = CASE WHEN $2 = 'submitting' THEN $5 ELSE submit_owner END, updated_at = ${NOW_MS}
       WHERE request_id = $1`,
      [requestId, update.state, update.jobId ?? null, update.error ?? null, this.owner],
    );
    if (result.rowCount === 0) throw new JobhookError('JH_ERR_NOT_FOUND', `no request ${requestId}`);
  }

  async markInterrupted(): Promise<string[]> {
    const local = await this.db.query<{ owner: string; pid: number }>(
      'mark interrupted submissions',
      'SELECT owner, pid FROM instances WHERE host = $1',
      [processSpace()],
    );
    const dead = local.rows.filter((i) => i.owner !== this.owner && !isProcessAlive(i.pid)).map((i) => i.owner);
    const { rows } = await this.db.query<{ request_id: string }>(
      'mark interrupted submissions',
      `WITH now AS (SELECT ${NOW_MS} AS ms)
       UPDATE requests r SET submit_state = 'unknown', submit_owner = NULL, updated_at = now.ms
       FROM now
       WHERE r.submit_state = 'submitting' AND NOT EXISTS (
         SELECT 1 FROM instances i
         WHERE i.owner = r.submit_owner AND i.heartbeat_at > now.ms - $1 AND i.owner <> ALL($2::text[]))
       RETURNING r.request_id`,
      [this.instanceLeaseMs, dead],
    );
    // Rows of instances long gone only slow the check above down.
    await this.db.query(
      'forget stopped instances',
      `DELETE FROM instances WHERE heartbeat_at < ${NOW_MS} - $1::bigint * 10`,
      [this.instanceLeaseMs],
    );
    return rows.map((r) => r.request_id).sort();
  }

  /** The first submission registers this store as live; the claim is only safe once that committed. */
  async #ensureHeartbeat(): Promise<void> {
    if (this.#stopped) return;
    this.#registered ??= this.#beat().catch((error: unknown) => {
      this.#registered = null;
      throw error;
    });
    await this.#registered;
    // Read again after the await: close() may have run meanwhile.
    if (this.#heartbeat || this.#isStopped()) return;
    this.#heartbeat = setInterval(
      () => {
        this.#beat().catch(() => undefined);
      },
      Math.max(50, this.instanceLeaseMs / 6),
    );
    this.#heartbeat.unref();
  }

  #isStopped(): boolean {
    return this.#stopped;
  }

  async #beat(): Promise<void> {
    await this.db.query(
      'renew this instance',
      `INSERT INTO instances (owner, host, pid, started_at, heartbeat_at) SELECT $1, $2, $3, now.ms, now.ms FROM (SELECT ${NOW_MS} AS ms) now
       ON CONFLICT (owner) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`,
      [this.owner, processSpace(), process.pid],
    );
  }

  /** Before the pool closes: this instance's submissions become interruptible at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (this.#registered === null) return;
    await this.db
      .query('forget this instance', 'DELETE FROM instances WHERE owner = $1', [this.owner])
      .catch(() => undefined);
  }
}
