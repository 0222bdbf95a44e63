import { JobhookError } from '../errors.js';
import type { EventHandler, HandlerRunner, InsightsHandler } from '../handlers/handler-runner.js';
import { ACE_DOMAINS, isAceDomain } from '../ringcentral/ace.js';
import type { InsightsKey } from '../types.js';
import {
  awaitInsights,
  type AwaitedInsights,
  type AwaitInsightsOptions,
  type InsightsReader,
} from './insights-waiter.js';

/**
 * The handler side of push notifications on the `Jobhook` object: `onEvent` and `onInsights` register
 * durable handlers (at least once per event uuid / per new insights version, retries, dead letter, replay
 * with `jobhook retry`), by name so that runs survive restarts.
 */
export interface NotificationHandlers {
  /**
   * Runs `handler` for every push notification whose `event` matches `filter` (an event filter as
   * subscribed, `~` matching any id; `'*'`: every notification), once per envelope `uuid`.
   * @example
   * await jobhook.onEvent('/restapi/v1.0/account/~/telephony/sessions', ({ envelope }) => save(envelope.body));
   */
  onEvent(filter: string, handler: EventHandler, options?: { name?: string }): Promise<void>;
  /**
   * Runs `handler` for each new version of an ACE insight record of `domain` (`pbx`, `rcv`, `rcx`,
   * `ms-teams`, `nice-incontact`, or `'*'`), whether it came by webhook or was read back. A call with AI
   * Notes gives two versions; an older one arriving late runs nothing.
   * @example
   * await jobhook.onInsights('pbx', ({ sourceRecordId, record }) => crm.attach(sourceRecordId, record.insights));
   */
  onInsights(domain: string, handler: InsightsHandler, options?: { name?: string }): Promise<void>;
  /**
   * The insight record of a call or meeting, from the store, as soon as it is there: by webhook or read back
   * (`jobhook insights <domain> <id>`, or the keeper's backfill after an outage). Resolves at once with the
   * newest version stored; rejects with JH_ERR_TIMEOUT after `timeoutMs` (no limit when omitted).
   * @example
   * const { record, insights } = await jobhook.insights({ domain: 'pbx', sourceRecordId, timeoutMs: 30 * 60_000 });
   */
  insights(query: InsightsKey & AwaitInsightsOptions): Promise<AwaitedInsights>;
}

export function notificationHandlers(runner: HandlerRunner, store: InsightsReader): NotificationHandlers {
  return {
    insights({ domain, sourceRecordId, ...options }) {
      return awaitInsights(store, { domain, sourceRecordId }, options);
    },
    async onEvent(filter, handler, options = {}) {
      if (filter !== '*' && !filter.startsWith('/')) {
        throw new JobhookError(
          'JH_ERR_INVALID_ARGUMENT',
          `an event filter starts with "/" (e.g. /restapi/v1.0/account/~/extension/~/presence), or is "*": ${filter}`,
        );
      }
      await runner.registerEvents(options.name ?? `event:${filter}`, filter, handler);
    },
    async onInsights(domain, handler, options = {}) {
      if (domain !== '*' && !isAceDomain(domain)) {
        throw new JobhookError(
          'JH_ERR_INVALID_ARGUMENT',
          `unknown ACE domain ${JSON.stringify(domain)}: one of ${ACE_DOMAINS.join(', ')}, or "*"`,
        );
      }
      await runner.registerInsights(options.name ?? `insights:${domain}`, domain, handler);
    },
  };
}
