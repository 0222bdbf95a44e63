/** Moved to src/ringcentral/ so that other features (the subscription keeper's backfill) share it. */
export { lightKeyFor, lightRateBudgetKey, rateBudgetKey } from '../ringcentral/rate-budget-key.js';
