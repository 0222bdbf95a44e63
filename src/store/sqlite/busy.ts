import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long one attempt may block the event loop inside SQLite's busy handler. Kept short because
 * better-sqlite3 waits synchronously: the real wait for another process's lock happens between
 * attempts, asynchronously, so healthz and body reads go on being served meanwhile.
 */
export const ATTEMPT_BUSY_TIMEOUT_MS = 10;

/** Another connection holds a lock we need (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED…). */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Sleeps 5–25 ms (jitter, so two waiting processes do not retry in step), never past `deadlineMs`. */
export async function pauseBeforeRetry(deadlineMs: number): Promise<void> {
  const wantMs = 5 + Math.random() * 20;
  await sleep(Math.max(0, Math.min(wantMs, deadlineMs - Date.now())));
}
