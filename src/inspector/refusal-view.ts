/**
 * Webhook traffic the receiver refused, as the inspector shows it (ngrok's inspector lists refused traffic
 * too: a callback that never arrives is otherwise invisible). The shape is declared here, not imported from
 * the receiver — features never import each other; the CLI passes the receiver's `refusals.recent`.
 */
export interface InspectorRefusal {
  at: string;
  method: string;
  /** Redacted by the receiver: no query string, tags replaced by `<tag>`. */
  path: string;
  reason: string;
  /** The answer given; null when the sender went away first. */
  status: number | null;
}

/** One line per reason: what it means and what to do. */
export const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  'unknown-path': 'Not a jobhook callback URL: mint one (jobhook mint), or take a fixed path with --accept <path>.',
  'bad-tag': 'The tag does not verify: the URL was minted by another database or secret (check --db), or altered.',
  'not-post': 'Webhooks are POSTs; this was another method (a browser or a health check?).',
  'verification-token-missing':
    'A subscription notification without Verification-Token: re-create the subscription with its minted token.',
  'verification-token-mismatch':
    "A subscription notification with another Verification-Token (another token or installation's secret): re-create it.",
  'too-large': 'The body was over --max-body: raise it, or the sender keeps retrying in vain.',
  aborted: 'The sender went away before its body was complete; it should redeliver.',
  'store-unavailable': 'The store could not commit (see the receiver log); answered 503, so RingCentral redelivers.',
  'store-refused':
    'The database refused the delivery as data (a conflict, not an outage); answered 500. See the receiver log.',
};

export function toRefusalView(refusal: InspectorRefusal): InspectorRefusal & { hint: string } {
  return { ...refusal, hint: REFUSAL_HINTS[refusal.reason] ?? 'Refused by the receiver.' };
}
