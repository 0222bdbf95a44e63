import type {
  DeliveryRecord,
  IncomingDelivery,
  ParseOutcome,
  RecordedDelivery,
  RequestKind,
  RequestRecord,
  RequestSettledEvent,
  RequestState,
} from '../types.js';

/**
 * The one interface the receiver, the client and the CLI meet at. Every method is async so that a
 * PostgreSQL implementation shared by several receiver processes fits behind it unchanged.
 *
 * Durability contract: when `recordDeliveries` resolves, every delivery in the batch is committed and
 * fsync'd; when it rejects, none is, and the caller must not acknowledge any of them.
 */
export interface Store {
  /** Returns the callback secrets, newest first, creating the first one with `generate` on first use. */
  ensureSecrets(generate: () => string): Promise<string[]>;
  /** Adds a new newest secret; older ones keep verifying. Returns the keyring, newest first. */
  addSecret(secret: string): Promise<string[]>;

  /** Write-ahead: records a minted request before its callback URL is handed to anyone. */
  createRequest(input: NewRequest): Promise<RequestRecord>;

  /** Commits a batch of deliveries in one transaction; identical bodies for one request only raise `count`. */
  recordDeliveries(batch: readonly IncomingDelivery[]): Promise<RecordedDelivery[]>;
  /** Deliveries the envelope parser has not seen yet, oldest first (crash recovery of the after-ack step). */
  listUnparsedDeliveries(limit: number): Promise<DeliveryRecord[]>;
  /**
   * Records parse verdicts, indexes jobIds and settles requests on their first terminal envelope.
   * Emits `settled` for each request that left `pending`, after the commit.
   */
  recordParseOutcomes(outcomes: readonly ParseOutcome[]): Promise<RequestSettledEvent[]>;

  /** Looks a request up by request ID or by jobId. */
  findRequest(requestIdOrJobId: string): Promise<RequestRecord | undefined>;
  listRequests(query?: RequestQuery): Promise<RequestRecord[]>;
  listDeliveries(requestId: string): Promise<DeliveryRecord[]>;

  /** Subscribes to terminal transitions; returns the unsubscribe function. */
  onSettled(listener: (event: RequestSettledEvent) => void): () => void;

  close(): Promise<void>;
}

export interface NewRequest {
  requestId: string;
  kind: RequestKind;
  callbackUrl: string;
  api?: string | null;
  requestBody?: string | null;
  createdAtMs?: number;
}

export interface RequestQuery {
  state?: RequestState;
  api?: string;
  /** Newest first; default 100. */
  limit?: number;
}
