import { isProcessAlive, processSpace } from '../machine.js';
import type { Statements } from './statements.js';

export interface InstancesOptions {
  owner: string;
  stmt: Statements;
  /** Silence after which an owner is taken for stopped. */
  leaseMs: number;
  /** Runs a write transaction (no fsync needed: a lost heartbeat only shortens a lease). */
  write: <T>(what: string, fn: () => T) => Promise<T>;
}

/**
 * This process's heartbeat in `instances`, which keeps its submissions in flight its own: another process
 * sharing the file marks them `unknown` only once the heartbeat is older than the lease, or at once when
 * the owner is a process of this machine that has exited. States: idle (no submission yet, no row) →
 * beating (row refreshed every leaseMs/6) → stopped (row deleted by close()).
 */
export class Instances {
  readonly #o: InstancesOptions;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: InstancesOptions) {
    this.#o = options;
  }

  /** Writes the heartbeat now and keeps it fresh; idempotent. */
  async start(): Promise<void> {
    if (this.#timer || this.#stopped) return;
    await this.#beat();
    this.#timer ??= setInterval(() => void this.#beat().catch(() => undefined), Math.max(50, this.#o.leaseMs / 6));
    this.#timer.unref();
  }

  #beat(): Promise<void> {
    const { owner, stmt } = this.#o;
    return this.#o.write('write the heartbeat', () => {
      stmt.heartbeat.run({ owner, host: processSpace(), pid: process.pid, now: Date.now() });
    });
  }

  /** Marks `unknown` the submissions whose owner stopped; returns their request IDs. */
  markInterrupted(): Promise<string[]> {
    const { stmt, owner } = this.#o;
    return this.#o.write('mark interrupted submissions', () => {
      const now = Date.now();
      // Owners in this process space (machine and pid namespace) whose process is gone are stopped whatever their heartbeat says.
      const dead = stmt.instancesOn
        .all(processSpace())
        .filter((i) => i.owner !== owner && !isProcessAlive(i.pid))
        .map((i) => i.owner);
      return stmt.interrupted
        .all({ now, aliveAfter: now - this.#o.leaseMs, dead: JSON.stringify(dead) })
        .map((r) => r.request_id);
    });
  }

  /** Stops the heartbeat and removes the row: this owner's claims are free at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    await this.#o.write('remove the heartbeat', () => void this.#o.stmt.forgetInstance.run(this.#o.owner));
  }
}
