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
  'JH_ERR_STORE_CONFLICT',
  'JH_ERR_LEASE_LOST',
  'JH_ERR_MIGRATION_FAILED',
  'JH_ERR_API_REJECTED',
  'JH_ERR_SUBMIT_FAILED',
  'JH_ERR_PLATFORM_UNREACHABLE',
  'JH_ERR_JOB_FAILED',
  'JH_ERR_JOB_EXPIRED',
  'JH_ERR_TIMEOUT',
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

/** The API answered a request with an error (a 4xx other than 429): the platform's `errorCode` and message. */
export class ApiRejectedError extends JobhookError {
  readonly status: number;
  /** The platform's code, e.g. `CAI-101`; null when the body had none. */
  readonly errorCode: string | null;
  readonly parameterName: string | null;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const first = firstPlatformError(body);
    super(
      'JH_ERR_API_REJECTED',
      `the API answered ${status}${first?.errorCode ? ` ${first.errorCode}` : ''}: ${capMessage(first?.message ?? 'no message')}`,
    );
    this.status = status;
    this.errorCode = first?.errorCode ?? null;
    this.parameterName = first?.parameterName ?? null;
    this.body = body;
  }
}

/** The most characters of a platform message an `ApiRejectedError` message quotes. */
export const MAX_API_MESSAGE_CHARS = 500;

/**
 * The platform's message, cut at `MAX_API_MESSAGE_CHARS` with its total length: a 300 KB message was printed
 * whole on stderr. The whole answer stays in `ApiRejectedError.body`.
 */
function capMessage(message: string): string {
  if (message.length <= MAX_API_MESSAGE_CHARS) return message;
  let cut = message.slice(0, MAX_API_MESSAGE_CHARS);
  // Never end on half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}… (${message.length} characters in all)`;
}

function firstPlatformError(body: unknown): { errorCode?: string; message?: string; parameterName?: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as { errors?: unknown; errorCode?: unknown; message?: unknown; error_description?: unknown };
  const first: unknown = Array.isArray(record.errors) ? record.errors[0] : record;
  if (typeof first !== 'object' || first === null) return null;
  const item = first as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    errorCode: text(item.errorCode),
    message: text(item.message) ?? text(record.error_description),
    parameterName: text(item.parameterName),
  };
}

/** A job ended `Fail`; `envelope` is the terminal envelope as delivered. */
export class JobFailedError extends JobhookError {
  readonly envelope: Record<string, unknown>;

  constructor(requestId: string, envelope: Record<string, unknown>) {
    const first = firstPlatformError(envelope.response);
    super('JH_ERR_JOB_FAILED', `job of request ${requestId} failed${first?.message ? `: ${first.message}` : ''}`);
    this.envelope = envelope;
  }
}
