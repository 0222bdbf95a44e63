import type { DeliveryRules, EnvelopeSummary, RequestKind } from '../types.js';
import { parseEnvelope } from './envelope.js';
import { insightsVersionMs, parseNotification, topicTakes } from './notification.js';

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
 * The parser of a delivery by the kind of its request: a job's result envelope, or a subscription's push
 * notification (or ACE insights read back), which never settles anything (`status` is `Notification` or
 * `Insights`): its events and insight records are indexed instead.
 */
export function parseDelivery(body: Buffer, kind: RequestKind): ReturnType<typeof parseEnvelope> {
  switch (kind) {
    case 'job':
      return parseEnvelope(body);
    case 'subscription':
      return parseNotification(body);
  }
}

/** The rules handed to `Store.indexDeliveries`. */
export const deliveryRules: DeliveryRules = {
  parse: parseDelivery,
  settlementOf,
  topicTakes,
  insightsVersionMs,
};
