import type { RequestRecord, RequestState } from '../types.js';

/**
 * What a request is, as users see it everywhere (CLI lists and filters, `show`, the inspector): its state,
 * except that a job whose submission the API refused is `rejected`, and one whose submission was cut off
 * before an answer is `unknown` — neither will ever be settled by a webhook it was never promised, so
 * showing them as `pending` hid every failed submission. A webhook that still arrives settles them as usual.
 */
export type DisplayState = RequestState | 'rejected' | 'unknown';

export const DISPLAY_STATES: readonly DisplayState[] = [
  'pending',
  'succeeded',
  'failed',
  'expired',
  'rejected',
  'unknown',
];

export function displayStateOf(request: Pick<RequestRecord, 'state' | 'submitState'>): DisplayState {
  if (request.state !== 'pending') return request.state;
  if (request.submitState === 'rejected' || request.submitState === 'unknown') return request.submitState;
  return 'pending';
}

export function isDisplayState(value: string): value is DisplayState {
  return (DISPLAY_STATES as readonly string[]).includes(value);
}
