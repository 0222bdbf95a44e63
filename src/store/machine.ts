import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Which processes this one can see, as `instances.host`: the host name alone is not enough, since containers
 * that share it (host networking, a fixed `hostname:`) or cloned machines would take each other's live pids
 * for dead ones. The boot id names this kernel's boot, and the pid namespace which pids `kill(pid, 0)` can
 * test; where /proc lacks them (not Linux), the host name alone is used and only the heartbeat decides.
 */
let identity: string | null = null;

export function processSpace(): string {
  if (identity !== null) return identity;
  let boot = '';
  let pidNamespace = '';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: see above.
  }
  identity = boot && pidNamespace ? `${hostname()}#${boot}#${pidNamespace}` : hostname();
  return identity;
}

/** Whether a process of this same process space (see `processSpace`) still exists. */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
