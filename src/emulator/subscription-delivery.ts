import type { Logger } from 'pino';
import type { EmulatorOptions } from './options.js';
import type { Rng } from './rng.js';
import { reminderOf } from './subscription-requests.js';
import type { EmulatedSubscription, Subscriptions } from './subscriptions.js';
import { postToWebhook, type WebhookOutcome } from './webhook-http.js';
import { TimerSet } from './timer-set.js';

/**
 * Push notifications to subscription addresses (reference §10): the envelope `{uuid, event, timestamp,
 * subscriptionId, ownerId, body}` POSTed with `Verification-Token`, under the job faults (drop,
 * duplicate, delay, reorder).
 *
 * Per notification: attempt → exactly 200 within the attempt timeout and within 1024 answer bytes ends
 * it; anything else counts one failure on the subscription and, unless that blacklists it, is retried
 * after `backoffMs`, doubling, up to `retries` times. A success clears the failure streak. `failures`
 * in a row, or failing for `blacklistAfterMs`, blacklists the subscription with the platform's reason
 * wording (§6); a blacklisted, deleted or expired subscription gets nothing more, retries included.
 */
export interface NotifyFaults {
  drop?: boolean;
  duplicate?: number;
  delayMs?: number;
}

interface Pending {
  sub: EmulatedSubscription;
  envelope: Record<string, unknown>;
  copies: number;
  delayMs: number;
}

const UA = 'RingCentral-Webhook/8.3 (jobhook-emulator)';

function failureReason(outcome: WebhookOutcome, maxBytes: number): string | null {
  switch (outcome.kind) {
    case 'timeout':
      return 'I/O operation is failed. Details: [Read timed out]';
    case 'unreachable':
      return `I/O operation is failed. Details: [Connection refused (${outcome.message})]`;
    case 'error':
      return `I/O operation is failed. Details: [${outcome.message}]`;
    case 'answered':
      if (outcome.overLimit) return `Webhook response exceeds max size. Read bytes count: [${maxBytes}]`;
      return outcome.status === 200
        ? null
        : `Webhook responses with code: [${outcome.status}], reason: [${outcome.statusText}]`;
  }
}

export class Notifier {
  readonly #options: () => EmulatorOptions;
  readonly #subs: Subscriptions;
  readonly #rng: () => Rng;
  readonly #logger: Logger | undefined;
  readonly #timers = new TimerSet();
  #reorderBuffer: Pending[] = [];
  readonly #reminderJob: NodeJS.Timeout;

  constructor(options: () => EmulatorOptions, subs: Subscriptions, rng: () => Rng, logger?: Logger) {
    this.#options = options;
    this.#subs = subs;
    this.#rng = rng;
    this.#logger = logger;
    this.#reminderJob = setInterval(() => this.remindersDue(), options().subscriptions.reminderPeriodMs);
    this.#reminderJob.unref();
  }

  #later(ms: number, fn: () => void): void {
    this.#timers.later(ms, fn);
  }

  /** A 19-digit notification id, as in the ACE samples. */
  #uuid(): string {
    const rng = this.#rng();
    return String(1 + rng.int(9)) + Array.from({ length: 18 }, () => rng.int(10)).join('');
  }

  /** Active subscriptions with a filter equal to `event` (filters are stored with `~` resolved). */
  matching(event: string): EmulatedSubscription[] {
    return this.#subs.all().filter((s) => s.status === 'Active' && s.eventFilters.includes(event));
  }

  /** Sends `body` as `event` to every matching subscription; returns their ids. */
  publish(event: string, body: unknown, faults: NotifyFaults = {}): string[] {
    const targets = this.matching(event);
    for (const sub of targets) this.notify(sub, event, body, faults);
    return targets.map((s) => s.id);
  }

  /** One notification to one subscription, its fault plan drawn from the seed unless forced. */
  notify(sub: EmulatedSubscription, event: string, body: unknown, faults: NotifyFaults = {}): void {
    const o = this.#options();
    const rng = this.#rng();
    const drop = faults.drop ?? rng.next() < o.dropRate;
    const copies = faults.duplicate ?? (rng.next() < o.duplicateRate ? 2 + rng.int(2) : 1);
    const delayMs = faults.delayMs ?? o.deliveryDelayMs;
    const envelope = {
      uuid: this.#uuid(),
      event,
      timestamp: new Date().toISOString(),
      subscriptionId: sub.id,
      ownerId: sub.ownerId,
      body,
    };
    if (drop) {
      this.#logger?.debug({ subscriptionId: sub.id, uuid: envelope.uuid }, 'notification dropped');
      return;
    }
    const pending: Pending = { sub, envelope, copies, delayMs };
    if (o.reorderWindowMs > 0) {
      if (this.#reorderBuffer.length === 0) this.#later(o.reorderWindowMs, () => this.#flushReordered());
      this.#reorderBuffer.push(pending);
    } else this.#schedule(pending);
  }

  #flushReordered(): void {
    const items = this.#reorderBuffer;
    this.#reorderBuffer = [];
    const rng = this.#rng();
    for (let i = items.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    for (const item of items) this.#schedule(item);
  }

  #schedule(p: Pending): void {
    for (let copy = 1; copy <= p.copies; copy++) {
      this.#later(p.delayMs + (copy - 1) * 20, () => void this.#attempt(p.sub, p.envelope, 0));
    }
  }

  #live(sub: EmulatedSubscription): boolean {
    return this.#subs.byId(sub.id) === sub && sub.status === 'Active';
  }

  async #attempt(sub: EmulatedSubscription, envelope: Record<string, unknown>, attempt: number): Promise<void> {
    if (!this.#live(sub)) return;
    const o = this.#options().subscriptions;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'accept-encoding': 'UTF-8',
      'content-type': 'application/json; charset=UTF-8',
      'user-agent': UA,
      ...(sub.verificationToken === null ? {} : { 'verification-token': sub.verificationToken }),
    };
    const at = new Date().toISOString();
    const outcome = await postToWebhook(
      sub.address,
      headers,
      JSON.stringify(envelope),
      o.delivery.attemptTimeoutMs,
      o.maxAnswerBytes,
    );
    const reason = failureReason(outcome, o.maxAnswerBytes);
    sub.attempts.push({
      uuid: envelope.uuid as string,
      event: envelope.event as string,
      attempt,
      at,
      status: outcome.kind === 'answered' ? outcome.status : null,
      ...(reason === null ? {} : { error: reason }),
    });
    if (sub.attempts.length > 200) sub.attempts.splice(0, sub.attempts.length - 200);
    if (reason === null) {
      sub.failureStreak = 0;
      sub.failingSinceMs = null;
      return;
    }
    if (!this.#live(sub)) return;
    const now = Date.now();
    sub.failureStreak += 1;
    sub.failingSinceMs ??= now;
    if (sub.failureStreak >= o.blacklistAfterFailures || now - sub.failingSinceMs >= o.blacklistAfterMs) {
      this.#subs.blacklist(sub, reason);
      this.#logger?.debug({ subscriptionId: sub.id, reason }, 'subscription blacklisted');
      return;
    }
    if (attempt < o.delivery.retries) {
      this.#later(o.delivery.backoffMs * 2 ** attempt, () => void this.#attempt(sub, envelope, attempt + 1));
    }
  }

  /**
   * The renewal-reminder job (§5): once inside `threshold` seconds of expiry, an event every `interval`
   * seconds, its `event` the literal filter and its body `{expiresIn}` (seconds left).
   */
  remindersDue(now = Date.now()): void {
    const halfPeriod = this.#options().subscriptions.reminderPeriodMs / 2;
    for (const sub of this.#subs.all()) {
      if (sub.status !== 'Active') continue;
      for (const filter of sub.eventFilters) {
        const r = reminderOf(filter);
        if (!r) continue;
        const left = sub.expirationMs - now;
        if (left > r.thresholdS * 1000) continue;
        if (sub.lastReminderMs !== null && now - sub.lastReminderMs < r.intervalS * 1000 - halfPeriod) continue;
        sub.lastReminderMs = now;
        this.notify(sub, filter, { expiresIn: Math.max(0, Math.floor(left / 1000)) });
      }
    }
  }

  reset(): void {
    this.#timers.clear();
    this.#reorderBuffer = [];
  }

  close(): void {
    this.reset();
    clearInterval(this.#reminderJob);
  }
}
