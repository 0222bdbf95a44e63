import { createHash } from 'node:crypto';
import { platformError } from '../ringcentral/platform-error.js';
import { AceCalls, type AceCall } from './ace-events.js';
import type { Reply } from './subscriptions.js';

/**
 * The call log of the simulated recorded calls (`GET /restapi/v1.0/account/~/call-log`, and the
 * `/extension/~/call-log` variant), where a backfill finds the recording ids of RingEX voice (`pbx`) calls
 * whose ACE events it missed (reference §12.1: "take the recording id and telephony session id from the
 * call log"). Each pbx call made through `POST /_emulator/ace/calls` is one record whose `recording.id` is
 * its ACE `sourceRecordId` and `telephonySessionId` its `sourceSessionId`; it is listed from the moment it
 * is simulated, before its insights exist (the ACE read then answers 404, as while the platform works).
 *
 * Times: a call's length is drawn when its insights are published; from then on the record carries the
 * insights' `recordingStartTime` and `recordingDurationMs`. Until then it shows the call as starting a
 * minute before it was simulated, with duration 0. The emulator has one extension's worth of calls: the
 * extension's log lists the same records as the account's.
 */
const PATH = /^\/restapi\/v1\.0\/account\/([^/]+)(?:\/extension\/([^/]+))?\/call-log$/;
const RECORDING_TYPES = new Set(['Automatic', 'OnDemand', 'All']);
const DAY_MS = 24 * 3600 * 1000;
/** The recorded call's end, before the emulator simulates it (ace-events.ts: recording start = now - length - 60 s). */
const ENDED_BEFORE_MS = 60_000;

export function isCallLogPath(path: string): boolean {
  return PATH.test(path);
}

/** `AceCalls` that also remember when each call was simulated, for the call log's times. */
export class RecordedCalls extends AceCalls {
  readonly #recordedAtMs = new WeakMap<AceCall, number>();

  override simulate(...args: Parameters<AceCalls['simulate']>): AceCall {
    const call = super.simulate(...args);
    this.#recordedAtMs.set(call, Date.now());
    return call;
  }

  recordedAtMs(call: AceCall): number {
    return this.#recordedAtMs.get(call) ?? Date.now();
  }
}

interface Entry {
  call: AceCall;
  startMs: number;
  durationS: number;
}

function entryOf(calls: RecordedCalls, call: AceCall): Entry {
  const newest = call.versions.at(-1);
  const start = Date.parse(typeof newest?.recordingStartTime === 'string' ? newest.recordingStartTime : '');
  const length = typeof newest?.recordingDurationMs === 'number' ? newest.recordingDurationMs : null;
  if (!Number.isNaN(start) && length !== null) return { call, startMs: start, durationS: Math.round(length / 1000) };
  return { call, startMs: calls.recordedAtMs(call) - ENDED_BEFORE_MS, durationS: 0 };
}

/** A stable id of the platform's alphanumeric kind, derived from the recording id. */
const idOf = (prefix: string, sourceRecordId: string): string =>
  createHash('sha256').update(`${prefix}:${sourceRecordId}`).digest('base64url').slice(0, 20);
/** The platform's numeric `sessionId` (not the telephony session id). */
const sessionIdOf = (sourceRecordId: string): string =>
  String(createHash('sha256').update(`session:${sourceRecordId}`).digest().readUIntBE(0, 6));

function record(entry: Entry, accountBase: string): Record<string, unknown> {
  const { call } = entry;
  const newest = call.versions.at(-1);
  const id = idOf('call', call.sourceRecordId);
  return {
    uri: `${accountBase}/call-log/${id}`,
    id,
    sessionId: sessionIdOf(call.sourceRecordId),
    telephonySessionId: call.sourceSessionId,
    startTime: new Date(entry.startMs).toISOString(),
    duration: entry.durationS,
    type: 'Voice',
    direction: typeof newest?.callDirection === 'string' ? newest.callDirection : 'Outbound',
    action: 'Phone Call',
    result: 'Call connected',
    recording: {
      uri: `${accountBase}/recording/${call.sourceRecordId}`,
      id: call.sourceRecordId,
      type: 'Automatic',
      contentUri: `${accountBase}/recording/${call.sourceRecordId}/content`,
    },
  };
}

const invalid = (name: string, why: string): Reply => ({
  status: 400,
  body: platformError('CMN-101', `Parameter [${name}] value is invalid. ${why}`, name),
});

function dateParam(query: URLSearchParams, name: string, fallbackMs: number): number | Reply {
  const raw = query.get(name);
  if (raw === null) return fallbackMs;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? invalid(name, 'It should be an ISO 8601 date-time') : ms;
}

function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number | Reply {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  return n >= 1 && n <= max ? n : invalid(name, `It should be an integer from 1 to ${max}`);
}

/**
 * Answers a call-log read: the pbx calls whose start falls in [`dateFrom`, `dateTo`] (default: the last
 * 24 hours, as the platform's), newest first, `perPage` (1–1000, default 100) per `page` (1-based).
 * `recordingType` `Automatic` or `All` keeps every simulated call (all are recorded automatically),
 * `OnDemand` none. `base` is the server's origin, for the `uri`s.
 */
export function readCallLog(
  calls: RecordedCalls,
  accountId: string,
  path: string,
  query: URLSearchParams,
  base: string,
): Reply {
  const match = PATH.exec(path);
  if (!match) return { status: 404, body: platformError('CMN-120', `Resource for GET ${path} is not found`) };
  const account = match[1]!;
  if (account !== '~' && account !== accountId) {
    return {
      status: 404,
      body: platformError('CMN-102', 'Resource for parameter [accountId] is not found', 'accountId'),
    };
  }
  const now = Date.now();
  const from = dateParam(query, 'dateFrom', now - DAY_MS);
  const to = dateParam(query, 'dateTo', now);
  const perPage = intParam(query, 'perPage', 100, 1000);
  const page = intParam(query, 'page', 1, 100_000);
  for (const value of [from, to, perPage, page]) if (typeof value !== 'number') return value;
  const recordingType = query.get('recordingType');
  if (recordingType !== null && !RECORDING_TYPES.has(recordingType)) {
    return invalid('recordingType', 'It should be one of Automatic, OnDemand, All');
  }
  const [fromMs, toMs, size, pageNo] = [from, to, perPage, page] as number[] as [number, number, number, number];
  const entries =
    recordingType === 'OnDemand'
      ? []
      : calls
          .list()
          .filter((c) => c.domain === 'pbx')
          .map((c) => entryOf(calls, c))
          .filter((e) => e.startMs >= fromMs && e.startMs <= toMs)
          .sort((a, b) => b.startMs - a.startMs);
  const accountBase = `${base}/restapi/v1.0/account/${accountId}`;
  const total = entries.length;
  const totalPages = Math.max(1, Math.ceil(total / size));
  const pageStart = (pageNo - 1) * size;
  const shown = entries.slice(pageStart, pageStart + size).map((e) => record(e, accountBase));
  const pageUri = (n: number): { uri: string } => {
    const params = new URLSearchParams(query);
    params.set('page', String(n));
    params.set('perPage', String(size));
    return { uri: `${base}${path}?${params.toString()}` };
  };
  return {
    status: 200,
    body: {
      uri: pageUri(pageNo).uri,
      records: shown,
      paging: {
        page: pageNo,
        totalPages,
        perPage: size,
        totalElements: total,
        ...(shown.length > 0 ? { pageStart, pageEnd: pageStart + shown.length - 1 } : {}),
      },
      navigation: {
        firstPage: pageUri(1),
        lastPage: pageUri(totalPages),
        ...(pageNo > 1 ? { previousPage: pageUri(pageNo - 1) } : {}),
        ...(pageNo < totalPages ? { nextPage: pageUri(pageNo + 1) } : {}),
      },
    },
  };
}
