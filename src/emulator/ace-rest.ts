import { isAceDomain } from '../ringcentral/ace.js';
import { platformError } from '../ringcentral/platform-error.js';
import type { AceCall, AceCalls } from './ace-events.js';
import type { Reply } from './subscriptions.js';

/**
 * The ACE REST read endpoints (reference §12.1): one `RecordingInsights` by record id, or
 * `{records, paging}` by session id, each the newest version a simulated call has published. The
 * record shape is the event body without `eventType`, with the spec's `Highlights` spelling;
 * `insightTypes` (repeated or comma-separated) keeps only the named types. Unknown ids, and calls whose
 * insights are not published yet, answer 404 (the error shape is undocumented: the platform's usual).
 */
const PATH =
  /^\/ai\/ringsense\/v1\/public\/accounts\/([^/]+)\/domains\/([^/]+)\/(records|sessions)\/([^/]+)\/insights$/;

export function isAceRestPath(path: string): boolean {
  return PATH.test(path);
}

function restRecord(version: Record<string, unknown>, types: Set<string> | null): Record<string, unknown> {
  const rest = Object.fromEntries(Object.entries(version).filter(([key]) => key !== 'eventType' && key !== 'insights'));
  const insights = version.insights as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(insights)) {
    const name = key === 'HighLights' ? 'Highlights' : key;
    if (types === null || types.has(name)) out[name] = value;
  }
  return { ...rest, insights: out };
}

const newest = (call: AceCall): Record<string, unknown> | undefined => call.versions.at(-1);

export function readAceInsights(calls: AceCalls, accountId: string, path: string, query: URLSearchParams): Reply {
  const match = PATH.exec(path);
  if (!match) return { status: 404, body: platformError('CMN-120', `Resource for GET ${path} is not found`) };
  let account: string;
  let domain: string;
  let id: string;
  try {
    [account, domain, id] = [match[1]!, match[2]!, match[4]!].map(decodeURIComponent) as [string, string, string];
  } catch {
    return { status: 400, body: platformError('CMN-101', 'Request URL is malformed: invalid percent-encoding') };
  }
  if (!isAceDomain(domain)) {
    return { status: 400, body: platformError('CMN-101', 'Parameter [domain] value is invalid', 'domain') };
  }
  if (account !== '~' && account !== accountId) {
    return {
      status: 404,
      body: platformError('CMN-102', 'Resource for parameter [accountId] is not found', 'accountId'),
    };
  }
  const raw = query
    .getAll('insightTypes')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const types = raw.length > 0 ? new Set(raw) : null;
  if (match[3] === 'records') {
    const version = calls
      .find(domain, 'sourceRecordId', id)
      .map(newest)
      .find((v) => v !== undefined);
    if (!version) {
      return {
        status: 404,
        body: platformError('CMN-102', 'Resource for parameter [sourceRecordId] is not found', 'sourceRecordId'),
      };
    }
    return { status: 200, body: restRecord(version, types) };
  }
  const records = calls
    .find(domain, 'sourceSessionId', id)
    .map(newest)
    .filter((v): v is Record<string, unknown> => v !== undefined)
    .map((v) => restRecord(v, types));
  if (records.length === 0) {
    return {
      status: 404,
      body: platformError('CMN-102', 'Resource for parameter [sourceSessionId] is not found', 'sourceSessionId'),
    };
  }
  const n = records.length;
  return {
    status: 200,
    body: {
      records,
      paging: {
        page: 1,
        perPage: 100,
        pageStart: 0,
        pageEnd: n - 1,
        totalPages: 1,
        totalElements: n,
        sortableFields: [],
      },
    },
  };
}
