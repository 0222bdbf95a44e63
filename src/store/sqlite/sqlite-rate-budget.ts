import { applyReport, takeGrant, type RateWindowState } from '../rate-window.js';
import type { RateLimits } from '../store.js';
import type { Statements } from './statements.js';

/** The shared rate budget on SQLite: the window's row read and written inside the caller's write transaction. */
function stateOf(stmt: Statements, key: string): RateWindowState {
  const row = stmt.rateBudget.get(key);
  return { grants: row ? (JSON.parse(row.grants) as number[]) : [], holdUntilMs: row?.hold_until ?? 0 };
}

function put(stmt: Statements, key: string, state: RateWindowState): void {
  stmt.putRateBudget.run(key, JSON.stringify(state.grants), state.holdUntilMs);
}

/** Takes one grant if the window allows; returns 0, or how long to wait. SQLite's clock is this machine's. */
export function takeSqliteGrant(stmt: Statements, key: string, limits: RateLimits): number {
  const decision = takeGrant(stateOf(stmt, key), limits, Date.now());
  put(stmt, key, decision.state);
  return decision.waitMs;
}

export function reportSqliteRate(
  stmt: Statements,
  key: string,
  report: { holdMs?: number; remaining?: number; limits: RateLimits },
): void {
  put(stmt, key, applyReport(stateOf(stmt, key), report, Date.now()));
}
