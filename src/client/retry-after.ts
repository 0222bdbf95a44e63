/** Moved to src/ringcentral/ so that other features (the subscription keeper's backfill) share it. */
export { headerInt, parseRetryAfterMs } from '../ringcentral/retry-after.js';
