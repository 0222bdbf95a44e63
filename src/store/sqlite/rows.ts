import type {
  DeliveryRecord,
  HandlerRun,
  DeliverySource,
  ParseState,
  RequestKind,
  RequestOrigin,
  RequestRecord,
  RequestState,
  SubmitState,
} from '../../types.js';

/** Column shapes of the SQLite tables and their mapping to domain records (timestamps: ms → ISO-8601). */
export interface RequestRow {
  request_id: string;
  kind: RequestKind;
  api: string | null;
  callback_url: string | null;
  origin: RequestOrigin;
  parent_request_id: string | null;
  request_body: string | null;
  job_id: string | null;
  state: RequestState;
  outcome_delivery_id: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  delivery_count: number;
  submit_state: SubmitState;
  submit_error: string | null;
  check_count: number;
  next_check_at: number | null;
}

export interface DeliveryRow {
  delivery_id: number;
  request_id: string;
  source: DeliverySource;
  body: Buffer;
  /** Set when the body lives in a spool file; `body` is then empty. */
  body_file: string | null;
  body_sha256: Buffer;
  raw_headers: string;
  count: number;
  first_received_at: number;
  last_received_at: number;
  parse_state: ParseState;
  parse_error: string | null;
  job_id: string | null;
  api: string | null;
  status: string | null;
  creation_time: string | null;
  completion_time: string | null;
  expiration_time: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toRequestRecord(row: RequestRow): RequestRecord {
  return {
    requestId: row.request_id,
    kind: row.kind,
    api: row.api,
    callbackUrl: row.callback_url,
    origin: row.origin,
    parentRequestId: row.parent_request_id,
    requestBody: row.request_body,
    jobId: row.job_id,
    state: row.state,
    outcomeDeliveryId: row.outcome_delivery_id,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: row.completed_at === null ? null : iso(row.completed_at),
    deliveryCount: row.delivery_count,
    submitState: row.submit_state,
    submitError: row.submit_error,
    checkCount: row.check_count,
    nextCheckAt: row.next_check_at === null ? null : iso(row.next_check_at),
  };
}

/** `spooledBody`: the bytes of a spooled body, read from its file by the caller. */
export function toDeliveryRecord(row: DeliveryRow, spooledBody?: Buffer): DeliveryRecord {
  return {
    deliveryId: row.delivery_id,
    requestId: row.request_id,
    source: row.source,
    body: spooledBody ?? row.body,
    bodySha256: row.body_sha256.toString('hex'),
    rawHeaders: JSON.parse(row.raw_headers) as string[],
    count: row.count,
    firstReceivedAt: iso(row.first_received_at),
    lastReceivedAt: iso(row.last_received_at),
    parseState: row.parse_state,
    parseError: row.parse_error,
    envelope:
      row.parse_state === 'parsed' && row.status !== null
        ? {
            jobId: row.job_id,
            api: row.api,
            status: row.status,
            creationTime: row.creation_time,
            completionTime: row.completion_time,
            expirationTime: row.expiration_time,
          }
        : null,
  };
}

export interface RunRow {
  handler: string;
  event_key: string;
  request_id: string;
  delivery_id: number | null;
  state: HandlerRun['state'];
  attempts: number;
  next_attempt_at: number;
  owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  updated_at: number;
}

/** A handler run's row (both stores' shape) as the domain record. */
export const toHandlerRun = (r: RunRow): HandlerRun => ({
  handler: r.handler,
  eventKey: r.event_key,
  requestId: r.request_id,
  deliveryId: r.delivery_id,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: iso(r.next_attempt_at),
  owner: r.owner,
  leaseUntil: r.lease_until === null ? null : iso(r.lease_until),
  lastError: r.last_error,
  updatedAt: iso(r.updated_at),
});
