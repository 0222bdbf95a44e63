import { platformError } from '../ringcentral/platform-error.js';
import type { EmulatorOptions } from './options.js';
import type { Rng } from './rng.js';
import { checkCreate, checkExpiresIn, checkFilters, isRefusal, type Refusal } from './subscription-requests.js';
import { postToWebhook } from './webhook-http.js';

/**
 * The platform's WebHook subscriptions (reference §1–6, §9), per user and app.
 *
 * State of one subscription: created `Active` only after its address passed the handshake →
 * `Blacklisted` after repeated failed deliveries or on the control API (it persists, counting down,
 * and receives nothing) → gone at `expirationTime` (purged: every later call answers 404, renewal
 * included) or on DELETE. Renew and PUT move the expiry; neither reactivates a blacklisted one
 * (undocumented; the docs' fix is delete and create).
 */
export interface NotificationAttempt {
  uuid: string;
  event: string;
  attempt: number;
  at: string;
  status: number | null;
  error?: string;
}

export interface EmulatedSubscription {
  id: string;
  ownerId: string;
  clientId: string;
  eventFilters: string[];
  address: string;
  verificationToken: string | null;
  /** What the create (or last PUT) asked for; renewals reuse it. */
  expiresInS: number;
  creationMs: number;
  expirationMs: number;
  status: 'Active' | 'Blacklisted';
  blacklistedData?: { blacklistedAt: string; reason: string };
  failureStreak: number;
  failingSinceMs: number | null;
  lastReminderMs: number | null;
  /** The latest delivery attempts (newest last, bounded). */
  attempts: NotificationAttempt[];
}

export type Reply = { status: number; body?: unknown };
export interface Caller {
  ownerId: string;
  clientId: string;
}

const NOT_FOUND: Reply = {
  status: 404,
  body: platformError('CMN-102', 'Resource for parameter [subscriptionId] is not found', 'subscriptionId'),
};
const UA = 'RingCentral-Webhook/8.3 (jobhook-emulator)';

export class Subscriptions {
  readonly #subs = new Map<string, EmulatedSubscription>();
  readonly #options: () => EmulatorOptions;
  readonly accountId: string;
  readonly #rng: () => Rng;

  constructor(options: () => EmulatorOptions, accountId: string, rng: () => Rng) {
    this.#options = options;
    this.accountId = accountId;
    this.#rng = rng;
  }

  get #o() {
    return this.#options().subscriptions;
  }

  /** Expired subscriptions are purged, as observed on the platform (§5). */
  #sweep(now = Date.now()): void {
    for (const [id, sub] of this.#subs) if (sub.expirationMs <= now) this.#subs.delete(id);
  }

  #uuid(): string {
    const rng = this.#rng();
    const hex = Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[rng.int(4)]!}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  /** Live subscriptions (all users), for delivery and the control API. */
  all(): EmulatedSubscription[] {
    this.#sweep();
    return [...this.#subs.values()];
  }

  byId(id: string): EmulatedSubscription | undefined {
    this.#sweep();
    return this.#subs.get(id);
  }

  #owned(caller: Caller, id: string): EmulatedSubscription | undefined {
    const sub = this.byId(id);
    return sub && sub.ownerId === caller.ownerId && sub.clientId === caller.clientId ? sub : undefined;
  }

  info(sub: EmulatedSubscription, base: string): Record<string, unknown> {
    const now = Date.now();
    return {
      uri: `${base}/restapi/v1.0/subscription/${sub.id}`,
      id: sub.id,
      creationTime: new Date(sub.creationMs).toISOString(),
      status: sub.status,
      eventFilters: sub.eventFilters,
      disabledFilters: [],
      expirationTime: new Date(sub.expirationMs).toISOString(),
      expiresIn: Math.max(0, Math.floor((sub.expirationMs - now) / 1000)),
      deliveryMode: { transportType: 'WebHook', encryption: false, address: sub.address },
      ...(sub.blacklistedData ? { blacklistedData: sub.blacklistedData } : {}),
    };
  }

  /**
   * The validation request (§3): POST, `Validation-Token`, empty body; the answer must be 200, echo the
   * token in a header, fit in 1024 bytes and arrive within the time limit. Null when it passed.
   */
  async handshake(address: string, verificationToken: string | null): Promise<Refusal | null> {
    const rng = this.#rng();
    const token = Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('');
    const headers: Record<string, string> = {
      'validation-token': token,
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': UA,
      ...(verificationToken === null ? {} : { 'verification-token': verificationToken }),
    };
    const o = this.#o;
    const outcome = await postToWebhook(address, headers, '', o.handshakeTimeoutMs, o.maxAnswerBytes);
    const refuse = (code: string, message: string, parameterName?: string): Refusal => ({
      status: 400,
      body: platformError(code, message, parameterName),
    });
    if (outcome.kind === 'unreachable') return refuse('SUB-521', 'WebHook is not reachable');
    if (outcome.kind !== 'answered') {
      return refuse('CMN-101', 'Parameter [deliveryMode.address] value is invalid', 'deliveryMode.address');
    }
    if (outcome.overLimit) return refuse('SUB-525', 'WebHook server response is invalid');
    if (outcome.headers['validation-token'] !== token) return refuse('SUB-520', 'Validation Token is not returned');
    if (outcome.status !== 200) return refuse('SUB-525', 'WebHook server response is invalid');
    return null;
  }

  list(caller: Caller, base: string): Reply {
    const records = this.all()
      .filter((s) => s.ownerId === caller.ownerId && s.clientId === caller.clientId)
      .map((s) => this.info(s, base));
    return { status: 200, body: { uri: `${base}/restapi/v1.0/subscription`, records } };
  }

  get(caller: Caller, id: string, base: string): Reply {
    const sub = this.#owned(caller, id);
    return sub ? { status: 200, body: this.info(sub, base) } : NOT_FOUND;
  }

  async create(
    caller: Caller,
    body: Record<string, unknown>,
    base: string,
    isOwnListener: (a: string) => boolean,
  ): Promise<Reply> {
    const o = this.#o;
    const request = checkCreate(body, o, this.accountId, caller.ownerId);
    if (isRefusal(request)) return request;
    // A subscription delivering to the emulator itself could drive the control API (as for job webhooks).
    if (isOwnListener(request.address)) {
      return {
        status: 400,
        body: platformError('CMN-101', 'Parameter [deliveryMode.address] value is invalid', 'deliveryMode.address'),
      };
    }
    const mine = this.all().filter((s) => s.ownerId === caller.ownerId && s.clientId === caller.clientId);
    if (mine.length >= o.perUserLimit) {
      return { status: 403, body: platformError('SUB-505', 'Subscriptions limit exceeded') };
    }
    const refused = await this.handshake(request.address, request.verificationToken);
    if (refused) return refused;
    const now = Date.now();
    const sub: EmulatedSubscription = {
      id: this.#uuid(),
      ownerId: caller.ownerId,
      clientId: caller.clientId,
      eventFilters: request.eventFilters,
      address: request.address,
      verificationToken: request.verificationToken,
      expiresInS: request.expiresInS,
      creationMs: now,
      expirationMs: now + request.expiresInS * 1000,
      status: 'Active',
      failureStreak: 0,
      failingSinceMs: null,
      lastReminderMs: null,
      attempts: [],
    };
    this.#subs.set(sub.id, sub);
    return { status: 200, body: this.info(sub, base) };
  }

  /**
   * PUT (§4): `eventFilters` and `expiresIn`; other fields ignored (the address too, unless
   * `updatableAddress`). Any PUT renews; without `expiresIn`, with the default lifetime. New filters or a
   * new address are validated by a fresh handshake (undocumented; the emulator's choice).
   */
  async update(caller: Caller, id: string, body: Record<string, unknown>, base: string): Promise<Reply> {
    const sub = this.#owned(caller, id);
    if (!sub) return NOT_FOUND;
    const o = this.#o;
    const expiresInS = checkExpiresIn(body.expiresIn, o);
    if (isRefusal(expiresInS)) return expiresInS;
    let filters = sub.eventFilters;
    if (body.eventFilters !== undefined) {
      const checked = checkFilters(body.eventFilters, expiresInS, o, this.accountId, sub.ownerId);
      if (isRefusal(checked)) return checked;
      filters = checked;
    }
    const mode = body.deliveryMode as Record<string, unknown> | undefined;
    const address =
      o.updatableAddress && typeof mode?.address === 'string' && mode.address !== '' ? mode.address : sub.address;
    if (body.eventFilters !== undefined || address !== sub.address) {
      const refused = await this.handshake(address, sub.verificationToken);
      if (refused) return refused;
    }
    if (!this.#subs.has(id)) return NOT_FOUND;
    sub.eventFilters = filters;
    sub.address = address;
    sub.expiresInS = expiresInS;
    sub.expirationMs = Date.now() + expiresInS * 1000;
    sub.lastReminderMs = null;
    return { status: 200, body: this.info(sub, base) };
  }

  /** Renew (§4): a new expiry from now with the lifetime last asked for; 404 once expired (purged). */
  renew(caller: Caller, id: string, base: string): Reply {
    const sub = this.#owned(caller, id);
    if (!sub) return NOT_FOUND;
    sub.expirationMs = Date.now() + sub.expiresInS * 1000;
    sub.lastReminderMs = null;
    return { status: 200, body: this.info(sub, base) };
  }

  delete(caller: Caller, id: string): Reply {
    const sub = this.#owned(caller, id);
    if (!sub) return NOT_FOUND;
    this.#subs.delete(id);
    return { status: 204 };
  }

  /** Stops delivery for good and records why (§6); no-op when already blacklisted. */
  blacklist(sub: EmulatedSubscription, reason: string): void {
    if (sub.status === 'Blacklisted') return;
    sub.status = 'Blacklisted';
    sub.blacklistedData = { blacklistedAt: new Date().toISOString(), reason };
  }

  reset(): void {
    this.#subs.clear();
  }
}
