import { isJobhookError, type JobhookErrorCode } from '../errors.js';

/**
 * The CLI's exit codes: stable, documented in docs/errors.md (a test checks both directions), so scripts can
 * branch on them (`jobhook submit --wait … || case $? in 3) …`). 70 (EX_SOFTWARE) is kept for true bugs.
 */
export const EXIT = {
  ok: 0,
  notFound: 1,
  usage: 2,
  jobFailed: 3,
  timeout: 4,
  jobExpired: 5,
  unreachable: 6,
  storeUnavailable: 7,
  /** Ctrl-C while waiting (128 + SIGINT, as shells report it); the job goes on. */
  interrupted: 130,
  bug: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of each error code. A `Record` over the union: adding a code to ERROR_CODES without a row
 * here fails the type check, and test/cli/exit-codes.test.ts checks the docs table says the same.
 */
export const EXIT_CODE_OF: Readonly<Record<JobhookErrorCode, ExitCode>> = {
  JH_ERR_INVALID_CONFIG: EXIT.usage,
  JH_ERR_INVALID_ARGUMENT: EXIT.usage,
  JH_ERR_NOT_FOUND: EXIT.notFound,
  JH_ERR_STORE_UNAVAILABLE: EXIT.storeUnavailable,
  JH_ERR_STORE_CLOSED: EXIT.storeUnavailable,
  JH_ERR_MIGRATION_FAILED: EXIT.storeUnavailable,
  JH_ERR_STORE_CONFLICT: EXIT.storeUnavailable,
  JH_ERR_LEASE_LOST: EXIT.storeUnavailable,
  // The platform refused the request as given (bad body, bad credentials): the user changes the call.
  JH_ERR_API_REJECTED: EXIT.usage,
  // No 202 after every retry (5xx, 429, network): the platform is not taking jobs right now.
  JH_ERR_SUBMIT_FAILED: EXIT.unreachable,
  JH_ERR_PLATFORM_UNREACHABLE: EXIT.unreachable,
  JH_ERR_JOB_FAILED: EXIT.jobFailed,
  JH_ERR_JOB_EXPIRED: EXIT.jobExpired,
  JH_ERR_TIMEOUT: EXIT.timeout,
};

/** The exit code for a thrown value: its code's row for a JobhookError, 70 for anything else (a bug). */
export function exitCodeFor(error: unknown): ExitCode {
  return isJobhookError(error) ? EXIT_CODE_OF[error.code] : EXIT.bug;
}
