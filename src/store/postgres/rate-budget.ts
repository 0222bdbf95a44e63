import type pg from 'pg';
import { applyReport, takeGrant, type RateWindowState } from '../rate-window.js';
import type { RateLimits } from '../store.js';
import { NOW_MS } from './database.js';

/**
 * The shared rate budget (see `RateBudget` in store.ts) on PostgreSQL: the decision is rate-window.ts's,
 * shared with SQLite; here each call locks the key's row (created first if missing, so two first callers do
 * not both start from an empty log), decides on the database's clock, and writes the state back in the
 * same transaction: instances take turns on the row, never on a stale copy of it.
 */

interface BudgetRow {
  grants: string;
  hold_until: number;
}

async function lockWindow(client: pg.ClientBase, key: string): Promise<{ state: RateWindowState; now: number }> {
  await client.query('INSERT INTO rate_budgets (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
  const { rows } = await client.query<BudgetRow>(
    'SELECT grants, hold_until FROM rate_budgets WHERE key = $1 FOR UPDATE',
    [key],
  );
  // The clock is read by a statement of its own, once the lock is ours: read in the locking statement it
  // would date the grant from when this call began waiting for another instance's turn to end.
  const clock = await client.query<{ now: number }>(`SELECT ${NOW_MS} AS now`);
  const row = rows[0]!;
  const parsed: unknown = JSON.parse(row.grants);
  const grants = Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
  return { state: { grants: grants.sort((a, b) => a - b), holdUntilMs: row.hold_until }, now: clock.rows[0]!.now };
}

async function save(client: pg.ClientBase, key: string, state: RateWindowState): Promise<void> {
  await client.query('UPDATE rate_budgets SET grants = $2, hold_until = $3 WHERE key = $1', [
    key,
    JSON.stringify(state.grants),
    state.holdUntilMs,
  ]);
}

/** Inside a transaction: 0 when a grant was taken, else the ms to wait before asking again. */
export async function takeToken(client: pg.ClientBase, key: string, limits: RateLimits): Promise<number> {
  const { state, now } = await lockWindow(client, key);
  const { waitMs, state: next } = takeGrant(state, limits, now);
  await save(client, key, next);
  return waitMs;
}

/** Inside a transaction: see `applyReport`. */
export async function reportRate(
  client: pg.ClientBase,
  key: string,
  report: { holdMs?: number; remaining?: number; limits: RateLimits },
): Promise<void> {
  const { state, now } = await lockWindow(client, key);
  await save(client, key, applyReport(state, report, now));
}
