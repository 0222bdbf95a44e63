import { isUtf8 } from 'node:buffer';
import type { DeliveryRecord, HandlerRun, RequestRecord } from '../types.js';

/** JSON views shared by the local API and the CLI: bodies as text when they are UTF-8, base64 otherwise. */
export interface DeliveryView extends Omit<DeliveryRecord, 'body' | 'rawHeaders'> {
  headers: [string, string][];
  bodyText: string | null;
  bodyBase64: string | null;
  bodyBytes: number;
}

export interface RequestDetailView {
  request: RequestRecord;
  deliveries: DeliveryView[];
  /** Result handler and forwarding runs, with attempts and errors. */
  handlerRuns?: HandlerRun[];
}

export function toDeliveryView(delivery: DeliveryRecord): DeliveryView {
  const { body, rawHeaders, ...rest } = delivery;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  const text = isUtf8(body);
  return {
    ...rest,
    headers,
    bodyBytes: body.length,
    bodyText: text ? body.toString('utf8') : null,
    bodyBase64: text ? null : body.toString('base64'),
  };
}
