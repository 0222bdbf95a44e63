import type { EnvelopeParseResult, JobStatus } from '../types.js';

/**
 * Lenient parser of the AI API's result envelope (reference §4 and §10 row 8):
 * - the current form `{jobId, api, creationTime, completionTime, expirationTime, status, response}`;
 * - the 2022 bare form `{status, response}` with no jobId (the request ID in the callback URL correlates it);
 * - any `status` string is accepted; only `Success` and `Fail` are terminal.
 * Pure: bytes in, summary or error out. The caller keeps the raw bytes whatever the verdict.
 */
export type EnvelopeParse = EnvelopeParseResult;

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['Success', 'Fail']);

export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** The top-level fields `parseEnvelope` reads: all a parser working on a projection of a large body needs. */
export const ENVELOPE_FIELDS = ['jobId', 'api', 'status', 'creationTime', 'completionTime', 'expirationTime'] as const;

/** NUL removed: no jobId or api has one, and PostgreSQL's text (every store must take the same values) refuses it. */
function optionalString(value: unknown): string | null {
  const text = typeof value === 'string' ? value.replaceAll('\u0000', '') : '';
  return text !== '' ? text : null;
}

export function parseEnvelope(body: Buffer | string): EnvelopeParse {
  const decoded = typeof body === 'string' ? body : body.toString('utf8');
  // A UTF-8 byte order mark (EF BB BF) is legal before JSON text (RFC 8259 §8.1 lets parsers ignore it),
  // and decoding keeps it as U+FEFF, which JSON.parse refuses: the delivery was stored as unparseable and
  // never settled. One is skipped here only; the stored bytes keep it.
  const text = decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'not an envelope: the JSON is not an object' };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.status !== 'string' || record.status === '') {
    return { ok: false, error: 'not an envelope: no "status" string' };
  }
  return {
    ok: true,
    envelope: {
      jobId: optionalString(record.jobId),
      api: optionalString(record.api),
      status: record.status.replaceAll('\u0000', '\uFFFD'),
      creationTime: optionalString(record.creationTime),
      completionTime: optionalString(record.completionTime),
      expirationTime: optionalString(record.expirationTime),
    },
  };
}
