import type { DeliveryRules, EnvelopeSummary, RequestKind } from '../types.js';
import { parseEnvelope } from './envelope.js';

/**
 * The domain rules every store applies while indexing, kept out of the stores so that SQLite and PostgreSQL
 * decide alike: a job request settles on its first `Success` (succeeded) or `Fail` (failed) envelope; any
 * other status (`InProgress`, a value the API adds later) leaves it pending.
 */
export function settlementOf(envelope: EnvelopeSummary): 'succeeded' | 'failed' | null {
  if (envelope.status === 'Success') return 'succeeded';
  if (envelope.status === 'Fail') return 'failed';
  return null;
}

/**
 * The parser of a delivery by the kind of its request. Subscription notifications are parsed by the same
 * lenient envelope parser until their own lands (issue #12): their bodies have no `status`, so they never
 * settle anything.
 */
export function parseDelivery(body: Buffer, kind: RequestKind): ReturnType<typeof parseEnvelope> {
  switch (kind) {
    case 'job':
    case 'subscription':
      return parseEnvelope(body);
  }
}

/** The rules handed to `Store.indexDeliveries`. */
export const deliveryRules: DeliveryRules = { parse: parseDelivery, settlementOf };
