import { ApiRejectedError, JobhookError } from '../errors.js';
import type { Platform, PlatformAnswer } from '../ringcentral/platform.js';

/**
 * The platform's subscription API (reference §1–6, §9) through our `Platform` (the official SDK): create,
 * get, list, renew, update, delete. Every answer is parsed permissively (`status` is an open string: the
 * sources name `Active`, `Blacklisted`, `Suspended` and `Blocked`), and every refusal becomes an error that
 * names the platform's `errorCode` and what to do about it, since the platform's own messages ("WebHook
 * server response is invalid") rarely say.
 *
 * A 404 of get, renew and delete is an answer, not an error (null / false): an expired subscription is
 * purged (§5), and a renewal that comes too late is the commonest way to meet one.
 */

/** The WebHook maximum of `expiresIn` in the current spec (10 years, §0); larger values are clamped. */
export const MAX_EXPIRES_IN_S = 315_360_000;

export const SUBSCRIPTION_PATH = '/restapi/v1.0/subscription';

/** One of `SubscriptionInfo.disabledFilters`: accepted, but not active (a missing scope or permission). */
export interface DisabledFilter {
  filter: string;
  reason: string;
  message?: string;
  [key: string]: unknown;
}

/** `SubscriptionInfo` (§2.2), as permissive as the sources require; `raw` is the whole object. */
export interface SubscriptionInfo {
  id: string;
  /** As sent: `Active`, `Blacklisted`, … Anything but `Active` delivers nothing. */
  status: string;
  eventFilters: string[];
  disabledFilters: DisabledFilter[];
  expirationTime: string | null;
  /** Seconds left when the platform answered (right after create or renew: the lifetime granted). */
  expiresIn: number | null;
  creationTime: string | null;
  transportType: string | null;
  address: string | null;
  /** `{blacklistedAt, reason}` when blacklisted, else null. */
  blacklistedData: Record<string, unknown> | null;
  raw: Record<string, unknown>;
}

export interface CreateSubscriptionInput {
  eventFilters: readonly string[];
  address: string;
  verificationToken: string;
  expiresInS: number;
  /** @defaultValue MAX_EXPIRES_IN_S */
  maxExpiresInS?: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A `SubscriptionInfo` from a parsed body; throws when it has no `id` (nothing could be kept of it). */
export function parseSubscriptionInfo(value: unknown): SubscriptionInfo {
  if (!isRecord(value) || typeof value.id !== 'string' || value.id === '') {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'the platform answered a subscription without an id');
  }
  const mode = isRecord(value.deliveryMode) ? value.deliveryMode : {};
  const filters = Array.isArray(value.eventFilters) ? value.eventFilters.filter((f) => typeof f === 'string') : [];
  const disabled = Array.isArray(value.disabledFilters) ? value.disabledFilters.filter(isRecord) : [];
  return {
    id: value.id,
    status: str(value.status) ?? 'Unknown',
    eventFilters: filters,
    disabledFilters: disabled.map((d) => ({ ...d, filter: str(d.filter) ?? '', reason: str(d.reason) ?? '' })),
    expirationTime: str(value.expirationTime),
    expiresIn: typeof value.expiresIn === 'number' && Number.isFinite(value.expiresIn) ? value.expiresIn : null,
    creationTime: str(value.creationTime),
    transportType: str(mode.transportType),
    address: str(mode.address),
    blacklistedData: isRecord(value.blacklistedData) ? value.blacklistedData : null,
    raw: value,
  };
}

/** What to do about each documented refusal (reference §3, §5, §9, Addendum). */
const ADVICE: Record<string, string> = {
  'SUB-520':
    'the address did not echo the Validation-Token header: is a jobhook serve/dev answering at that URL (and nothing else in front of it)?',
  'SUB-521':
    'the platform could not reach the address: start jobhook serve/dev, and make its public URL reachable from the internet (--tunnel ngrok or --public-url); `jobhook doctor` checks it',
  'SUB-523': 'the platform requires an https address: use --tunnel ngrok or an https --public-url',
  'SUB-524':
    "the address's TLS certificate is not trusted: serve the full chain (intermediate certificates, e.g. Let's Encrypt fullchain.pem)",
  'SUB-525':
    'the answer to the handshake was invalid or over 1024 bytes: something in front of jobhook (a proxy) adds headers or a body; `jobhook doctor` measures it',
  'CMN-101':
    'the platform could not use the address (a connection, timeout or TLS failure, or a malformed URL): check the public URL with `jobhook doctor`',
  'SUB-505':
    'the user already has 30 subscriptions for this app (all tools and transports count): `jobhook subscriptions`, then `jobhook unsubscribe <name>`, or delete others',
  'SUB-508':
    'an event filter is not one the platform knows: check its spelling (ACE: /ai/ringsense/v1/public/accounts/~/domains/<pbx|rcv|rcx|ms-teams|nice-incontact>/insights)',
  'SUB-516':
    'reminder parameters out of bounds: threshold at most half the lifetime, interval at most half the threshold, both at least the platform job period',
  'SUB-528': 'the app lacks the WebSocket Subscriptions permission',
  'CMN-102': 'the subscription no longer exists (expired and purged, or deleted): create it again',
  'SUB-507': 'the subscription expired: create it again',
  'CMN-103': 'the platform could not read the request body',
};

function adviceFor(status: number, errorCode: string | null): string {
  if (errorCode && ADVICE[errorCode]) return ADVICE[errorCode];
  if (errorCode?.startsWith('SUB-4') || status === 403) {
    return 'the app or user is not allowed this subscription: the app needs the SubscriptionWebhook scope (and RingSense for ACE filters), the user the permissions the events need';
  }
  if (status === 401 || errorCode?.startsWith('OAU-')) {
    return 'the credentials were refused: check RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET and RC_USER_JWT';
  }
  return 'see the platform message';
}

/** The platform refused a subscription call: `ApiRejectedError` whose message says what to do. */
export class SubscriptionRejectedError extends ApiRejectedError {
  constructor(action: string, status: number, body: unknown) {
    super(status, body);
    this.message = `${action}: ${this.message}; ${adviceFor(status, this.errorCode)}`;
  }
}

function bodyOf(answer: PlatformAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return answer.text;
  }
}

/**
 * A refusal as an error: 4xx (but 429) → `SubscriptionRejectedError` (JH_ERR_API_REJECTED, fix the
 * request); 429 and 5xx → JH_ERR_PLATFORM_UNREACHABLE (try again later; the keeper does, next round).
 */
export function subscriptionError(action: string, answer: PlatformAnswer): JobhookError {
  const body = bodyOf(answer);
  if (answer.status === 429 || answer.status >= 500) {
    const retryAfter = answer.headers.get('retry-after');
    return new JobhookError(
      'JH_ERR_PLATFORM_UNREACHABLE',
      `${action}: the platform answered ${answer.status}${retryAfter ? ` (Retry-After ${retryAfter} s)` : ''}; try again later`,
      { cause: new ApiRejectedError(answer.status, body) },
    );
  }
  return new SubscriptionRejectedError(action, answer.status, body);
}

function infoOf(action: string, answer: PlatformAnswer): SubscriptionInfo {
  if (answer.status !== 200) throw subscriptionError(action, answer);
  return parseSubscriptionInfo(bodyOf(answer));
}

/** `expiresIn` as sent: a whole number of seconds, at least 1, at most the maximum. */
export function clampExpiresIn(expiresInS: number, maxExpiresInS = MAX_EXPIRES_IN_S): number {
  return Math.max(1, Math.min(Math.floor(expiresInS), Math.floor(maxExpiresInS)));
}

/**
 * Creates a WebHook subscription. `expiresIn` is sent explicitly at the top level of the body: missing or
 * inside `deliveryMode`, the platform applies its 7-day default and the subscription dies silently (§0).
 * The platform handshakes with the address before answering (§3).
 *
 * @example
 * const info = await createSubscription(platform, { eventFilters: [aceEventFilter('pbx')], address, verificationToken, expiresInS: 315_360_000 });
 */
export async function createSubscription(
  platform: Platform,
  input: CreateSubscriptionInput,
): Promise<SubscriptionInfo> {
  const answer = await platform.post(SUBSCRIPTION_PATH, {
    eventFilters: [...input.eventFilters],
    deliveryMode: { transportType: 'WebHook', address: input.address, verificationToken: input.verificationToken },
    expiresIn: clampExpiresIn(input.expiresInS, input.maxExpiresInS),
  });
  return infoOf('creating the subscription', answer);
}

/** Every subscription of the logged-in user for this app (all transports: each counts toward the 30). */
export async function listSubscriptions(platform: Platform): Promise<SubscriptionInfo[]> {
  const answer = await platform.get(SUBSCRIPTION_PATH);
  if (answer.status !== 200) throw subscriptionError('listing the subscriptions', answer);
  const body = bodyOf(answer);
  const records = isRecord(body) && Array.isArray(body.records) ? body.records : null;
  if (!records) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'the subscription list has no records array');
  // One malformed entry must not hide the others (nor stop the keeper).
  return records.flatMap((r) => {
    try {
      return [parseSubscriptionInfo(r)];
    } catch {
      return [];
    }
  });
}

const idPath = (id: string): string => `${SUBSCRIPTION_PATH}/${encodeURIComponent(id)}`;

/** The subscription, or null when the platform does not have it (404). */
export async function getSubscription(platform: Platform, id: string): Promise<SubscriptionInfo | null> {
  const answer = await platform.get(idPath(id));
  if (answer.status === 404) return null;
  return infoOf(`reading subscription ${id}`, answer);
}

/** Renews (§4): a new expiry; null when it is gone (404: expired and purged, or deleted). */
export async function renewSubscription(platform: Platform, id: string): Promise<SubscriptionInfo | null> {
  const answer = await platform.post(`${idPath(id)}/renew`, undefined);
  if (answer.status === 404) return null;
  return infoOf(`renewing subscription ${id}`, answer);
}

/** PUT (§4): new filters and/or lifetime (which also renews); null when it is gone. */
export async function updateSubscription(
  platform: Platform,
  id: string,
  change: { eventFilters?: readonly string[]; expiresInS?: number; maxExpiresInS?: number },
): Promise<SubscriptionInfo | null> {
  const body: Record<string, unknown> = {};
  if (change.eventFilters) body.eventFilters = [...change.eventFilters];
  if (change.expiresInS !== undefined) body.expiresIn = clampExpiresIn(change.expiresInS, change.maxExpiresInS);
  const answer = await platform.put(idPath(id), body);
  if (answer.status === 404) return null;
  return infoOf(`updating subscription ${id}`, answer);
}

/** Deletes (204); false when it was already gone (404), which is what the caller wanted anyway. */
export async function deleteSubscription(platform: Platform, id: string): Promise<boolean> {
  const answer = await platform.delete(idPath(id));
  if (answer.status === 404) return false;
  if (answer.status >= 200 && answer.status < 300) return true;
  throw subscriptionError(`deleting subscription ${id}`, answer);
}
