import type { RateLimits } from './store.js';

/**
 * The decision of the shared rate budget (see `RateBudget` in store.ts), one pure function for every backend:
 * each store reads the key's row under its write lock, calls these, and writes the result back.
 *
 * State of a key: the times of the grants still inside the window (plus the margin), and a hold.
 */
export interface RateWindowState {
  /** Grant times (ms, database clock), oldest first, none older than the window and margin. */
  grants: number[];
  /** No grant before this time (ms); 0 when no hold. */
  holdUntilMs: number;
}

/**
 * A request granted at `t` reaches the platform a little later, and the platform counts arrivals: without a
 * margin two grants exactly one window apart could arrive inside one window of the platform's.
 */
export function rateMarginMs(limits: RateLimits): number {
  return Math.min(1000, Math.ceil(limits.windowMs / 20));
}

function live(state: RateWindowState, limits: RateLimits, nowMs: number): number[] {
  const horizon = nowMs - limits.windowMs - rateMarginMs(limits);
  return state.grants.filter((t) => t > horizon);
}

/** Takes one grant if the window allows it: `waitMs` 0 and the new state, or how long to wait. */
export function takeGrant(
  state: RateWindowState,
  limits: RateLimits,
  nowMs: number,
): { waitMs: number; state: RateWindowState } {
  const grants = live(state, limits, nowMs);
  if (state.holdUntilMs > nowMs) return { waitMs: state.holdUntilMs - nowMs, state: { ...state, grants } };
  const allowed = Math.max(0, limits.capacity - (limits.reserve ?? 0));
  if (grants.length < allowed) {
    return { waitMs: 0, state: { grants: [...grants, nowMs], holdUntilMs: state.holdUntilMs } };
  }
  // The grant that must leave the window before one more fits (with `reserve`, the window must empty further).
  const leaving = grants[grants.length - allowed] ?? grants[0] ?? nowMs;
  const waitMs = Math.max(1, leaving + limits.windowMs + rateMarginMs(limits) - nowMs + 1);
  return { waitMs, state: { ...state, grants } };
}

/** Applies what the platform said: a hold that only lengthens, and/or how many requests it says remain. */
export function applyReport(
  state: RateWindowState,
  report: { holdMs?: number; remaining?: number; limits: RateLimits },
  nowMs: number,
): RateWindowState {
  let grants = live(state, report.limits, nowMs);
  const holdUntilMs =
    report.holdMs !== undefined && report.holdMs > 0
      ? Math.max(state.holdUntilMs, nowMs + report.holdMs)
      : state.holdUntilMs;
  if (report.remaining !== undefined && Number.isFinite(report.remaining)) {
    // The platform saw more requests than we granted (another app instance, a process before this one):
    // count the difference as grants made now, so the window fills as the platform's did.
    const used = Math.max(0, report.limits.capacity - Math.max(0, Math.floor(report.remaining)));
    if (used > grants.length) grants = [...grants, ...Array<number>(used - grants.length).fill(nowMs)];
  }
  return { grants, holdUntilMs };
}
