import type { DeliveryRecord, RequestRecord } from '../types.js';
import type { Store } from './store.js';

/** The delivery that settled a request, and its envelope. */
export interface Outcome {
  delivery: DeliveryRecord;
  envelope: Record<string, unknown>;
}

/**
 * Reads the deciding delivery of a settled request; null while pending, or when it expired without one.
 * Only a delivery parsed as an envelope can settle a request, so its body is JSON.
 */
export async function readOutcome(store: Store, request: RequestRecord): Promise<Outcome | null> {
  if (request.outcomeDeliveryId === null) return null;
  const delivery = await store.getDelivery(request.outcomeDeliveryId);
  if (!delivery) return null;
  return { delivery, envelope: JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown> };
}
