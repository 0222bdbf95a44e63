import type { Logger } from 'pino';
import { JobhookError } from '../errors.js';
import type { Platform } from '../ringcentral/platform.js';
import { budgetedGet, rejection, type ReadBudget, type ReadOptions } from './backfill-reads.js';

/**
 * The recorded RingEX voice calls of a time window, read from the call log: the only place the platform
 * gives the ids of `pbx` ACE records (reference §12.1: the recording id is the record's `sourceRecordId`,
 * the telephony session id its `sourceSessionId`). Reads the account's log (every licensed user's calls,
 * as ACE is account-level); when the user may not read it (403), the user's own extension's log.
 * Call-log reads are in the platform's Heavy group.
 */
export interface RecordedCall {
  /** `recording.id`: the ACE `sourceRecordId`. */
  recordingId: string;
  /** The ACE `sourceSessionId`, when the log gives it. */
  telephonySessionId: string | null;
  startTime: string | null;
}

export interface ListRecordedCallsOptions {
  platform: Platform;
  /** Calls that started in [fromMs, toMs]. */
  fromMs: number;
  toMs: number;
  budget: ReadBudget | null;
  read?: ReadOptions;
  /** Records per page (the platform allows up to 1000). @defaultValue 1000 */
  perPage?: number;
  /** Pages read at most, a bound on a window with more calls than that. @defaultValue 100 */
  maxPages?: number;
  logger?: Logger;
}

const ACCOUNT_LOG = '/restapi/v1.0/account/~/call-log';
const EXTENSION_LOG = '/restapi/v1.0/account/~/extension/~/call-log';

interface Page {
  records?: unknown;
  navigation?: { nextPage?: unknown };
  paging?: { page?: unknown; totalPages?: unknown };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;

/** The recorded calls of one page; records without a recording id are skipped. */
export function recordedCallsOf(page: unknown): RecordedCall[] {
  if (!isRecord(page) || !Array.isArray(page.records)) return [];
  const calls: RecordedCall[] = [];
  for (const record of page.records as unknown[]) {
    if (!isRecord(record) || !isRecord(record.recording)) continue;
    const recordingId = text(record.recording.id);
    if (recordingId === null) continue;
    calls.push({
      recordingId,
      telephonySessionId: text(record.telephonySessionId),
      startTime: text(record.startTime),
    });
  }
  return calls;
}

/** Whether another page follows: `navigation.nextPage`, or `paging.page < paging.totalPages`. */
function hasNextPage(page: Page): boolean {
  if (isRecord(page.navigation) && page.navigation.nextPage !== undefined) return true;
  const at = page.paging?.page;
  const total = page.paging?.totalPages;
  return typeof at === 'number' && typeof total === 'number' && at < total;
}

/**
 * Every recorded call that started in the window, oldest page last as the platform orders them (newest
 * first), each recording once. Throws `ApiRejectedError` when the platform refuses the read itself.
 */
export async function listRecordedCalls(options: ListRecordedCallsOptions): Promise<RecordedCall[]> {
  const perPage = options.perPage ?? 1000;
  const maxPages = options.maxPages ?? 100;
  const query = (page: number): string =>
    new URLSearchParams({
      dateFrom: new Date(options.fromMs).toISOString(),
      dateTo: new Date(options.toMs).toISOString(),
      recordingType: 'All',
      view: 'Simple',
      perPage: String(perPage),
      page: String(page),
    }).toString();
  let base = ACCOUNT_LOG;
  const seen = new Set<string>();
  const calls: RecordedCall[] = [];
  for (let page = 1; page <= maxPages; page++) {
    let answer = await budgetedGet(options.platform, `${base}?${query(page)}`, options.budget, options.read);
    if (answer.status === 403 && base === ACCOUNT_LOG && page === 1) {
      // Reading the company's call log needs an admin's permission; the user's own calls are still worth it.
      options.logger?.warn(
        'the account call log is not readable with these credentials (403); backfilling from the user’s own call log',
      );
      base = EXTENSION_LOG;
      answer = await budgetedGet(options.platform, `${base}?${query(page)}`, options.budget, options.read);
    }
    if (answer.status !== 200) throw rejection(answer);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch (error) {
      throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `the call log answered 200 without JSON at ${base}`, {
        cause: error,
      });
    }
    for (const call of recordedCallsOf(parsed)) {
      if (seen.has(call.recordingId)) continue;
      seen.add(call.recordingId);
      calls.push(call);
    }
    if (!isRecord(parsed) || !hasNextPage(parsed)) return calls;
    if (page === maxPages) {
      options.logger?.warn({ maxPages, perPage }, 'call log window has more pages than the backfill reads; narrow it');
    }
  }
  return calls;
}
