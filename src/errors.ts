/**
 * One error class with stable codes; callers match on `code`, never on `message`.
 * Every code is listed in docs/errors.md (a test enforces it).
 */
export const ERROR_CODES = [
  'JH_ERR_INVALID_CONFIG',
  'JH_ERR_INVALID_ARGUMENT',
  'JH_ERR_NOT_FOUND',
  'JH_ERR_STORE_UNAVAILABLE',
  'JH_ERR_STORE_CLOSED',
  'JH_ERR_MIGRATION_FAILED',
] as const;

export type JobhookErrorCode = (typeof ERROR_CODES)[number];

export class JobhookError extends Error {
  override readonly name = 'JobhookError';
  readonly code: JobhookErrorCode;

  constructor(code: JobhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isJobhookError(value: unknown, code?: JobhookErrorCode): value is JobhookError {
  return value instanceof JobhookError && (code === undefined || value.code === code);
}
