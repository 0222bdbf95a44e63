import type { Logger } from 'pino';

/**
 * A trace of what the receiver refused. A webhook refused with 404 used to leave nothing behind — not even
 * at debug — so a user whose callbacks went to the guide's `/webhook`, or to URLs minted by another database,
 * saw RingCentral's redeliveries fail with no idea why. Each refusal is logged at debug; every
 * `summaryEveryMs` a warning counts the refusals since the last one by reason, with one example path each
 * and a hint at the fix; the latest `keep` are kept for the inspector. Paths lose their query string and
 * their tag (the tag is the URL's credential), and are cut to 200 characters.
 */
export type RefusalReason =
  | 'unknown-path'
  | 'bad-tag'
  | 'not-post'
  | 'verification-token-missing'
  | 'verification-token-mismatch'
  | 'too-large'
  | 'aborted'
  | 'store-unavailable'
  | 'store-refused';

export interface Refusal {
  at: string;
  method: string;
  path: string;
  reason: RefusalReason;
  /** The answer given; null when the sender went away first. */
  status: number | null;
}

export interface RefusalLog {
  record(method: string, rawPath: string, reason: RefusalReason, status: number | null): void;
  /** The latest refusals, newest first. */
  recent(): Refusal[];
  /** Counts by reason since the start. */
  totals(): Record<string, number>;
  stop(): void;
}

const HINTS: Record<RefusalReason, string> = {
  'unknown-path': 'not a jobhook callback URL: mint one (jobhook mint) or accept a fixed path with --accept <path>',
  'bad-tag': 'a callback URL whose tag does not verify: minted by another database or secret (check --db), or altered',
  'not-post': 'webhooks are POSTs; this was another method',
  'verification-token-missing':
    'a notification on a subscription URL without Verification-Token: the subscription was created without the verificationToken jobhook minted with its address; re-create it (jobhook subscribe)',
  'verification-token-mismatch':
    "a notification on a subscription URL with another Verification-Token: the subscription was created with another token, or by another installation's secret (check --db); re-create it (jobhook subscribe)",
  'too-large': 'body over --max-body: raise it, or the sender keeps retrying in vain',
  aborted: 'the sender went away before its body was complete',
  'store-unavailable': 'the store could not commit (see the errors above); RingCentral redelivers',
  'store-refused': 'the database refused the delivery as stored data (a conflict, not an outage: see the errors above)',
};

/** Tag-shaped segments (22 base64url characters) and anything after `?` are never logged or shown. */
export function redactPath(rawPath: string): string {
  const path = rawPath.split('?')[0]!;
  const redacted = path.replace(/\/[A-Za-z0-9_-]{22}(?=\/|$)/g, '/<tag>');
  return redacted.length > 200 ? `${redacted.slice(0, 200)}…` : redacted;
}

export function createRefusalLog(
  options: { logger?: Logger; summaryEveryMs?: number; keep?: number } = {},
): RefusalLog {
  const { logger } = options;
  const keep = options.keep ?? 200;
  const recent: Refusal[] = [];
  const totals: Record<string, number> = {};
  let window = new Map<RefusalReason, { count: number; example: string }>();

  const timer = setInterval(() => {
    if (window.size === 0) return;
    const reasons = Object.fromEntries(
      [...window].map(([reason, { count, example }]) => [reason, { count, example, hint: HINTS[reason] }]),
    );
    const total = [...window.values()].reduce((n, r) => n + r.count, 0);
    logger?.warn(
      { refused: reasons },
      `refused ${total} webhook request${total === 1 ? '' : 's'} in the last ${Math.round((options.summaryEveryMs ?? 30_000) / 1000)} s`,
    );
    window = new Map();
  }, options.summaryEveryMs ?? 30_000);
  timer.unref();

  return {
    record(method, rawPath, reason, status) {
      const path = redactPath(rawPath);
      logger?.debug({ method, path, reason, status }, 'webhook request refused');
      const entry = window.get(reason) ?? { count: 0, example: path };
      entry.count++;
      window.set(reason, entry);
      totals[reason] = (totals[reason] ?? 0) + 1;
      recent.unshift({ at: new Date().toISOString(), method, path, reason, status });
      if (recent.length > keep) recent.length = keep;
    },
    recent: () => [...recent],
    totals: () => ({ ...totals }),
    stop: () => clearInterval(timer),
  };
}
