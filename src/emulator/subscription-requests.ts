import { isAceDomain, parseAceEvent } from '../ringcentral/ace.js';
import { platformError, type PlatformErrorBody } from '../ringcentral/platform-error.js';
import type { SubscriptionOptions } from './options.js';

/**
 * Validation of subscription create/update bodies as the platform does it (reference §2, §4, §5, §9):
 * `expiresIn` is read at the top level only (one inside `deliveryMode` is ignored, so the default
 * 7 days applies, the classic trap), values above the maximum are clamped, event filters are checked,
 * and the renewal-reminder filter's parameters follow §5's bounds.
 */
export type Refusal = { status: number; body: PlatformErrorBody };

export interface CreateRequest {
  eventFilters: string[];
  address: string;
  verificationToken: string | null;
  expiresInS: number;
}

export interface ReminderFilter {
  thresholdS: number;
  intervalS: number;
}

const REMINDER = /^\/restapi\/v1\.0\/subscription\/~\?(.*)$/;
const KNOWN_PREFIXES = ['/restapi/v1.0/', '/team-messaging/v1/', '/ai/ringsense/v1/public/'];

const invalidParam = (name: string): Refusal => ({
  status: 400,
  body: platformError('CMN-101', `Parameter [${name}] value is invalid`, name),
});

/** The reminder filter's parameters, or null when `filter` is not one (§5). */
export function reminderOf(filter: string): ReminderFilter | null {
  const match = REMINDER.exec(filter);
  if (!match) return null;
  const params = new URLSearchParams(match[1]);
  return { thresholdS: Number(params.get('threshold')), intervalS: Number(params.get('interval')) };
}

/** A filter with `~` resolved to the account and the owner's extension; the reminder filter stays literal. */
export function resolveFilter(filter: string, accountId: string, ownerId: string): string {
  if (REMINDER.test(filter)) return filter;
  return filter
    .replace(/\/accounts\/~(?=\/|$|\?)/, `/accounts/${accountId}`)
    .replace(/\/account\/~(?=\/|$|\?)/, `/account/${accountId}`)
    .replace(/\/extension\/~(?=\/|$|\?)/g, `/extension/${ownerId}`);
}

/** Checks `eventFilters` (SUB-508 for unknown ones, SUB-516 for bad reminder bounds); resolved on success. */
export function checkFilters(
  value: unknown,
  expiresInS: number,
  o: SubscriptionOptions,
  accountId: string,
  ownerId: string,
): string[] | Refusal {
  if (!Array.isArray(value) || value.length === 0 || !value.every((f) => typeof f === 'string' && f !== '')) {
    return invalidParam('eventFilters');
  }
  const filters = value as string[];
  const unknown = filters.filter((f) => {
    if (REMINDER.test(f)) return false;
    if (!KNOWN_PREFIXES.some((p) => f.startsWith(p))) return true;
    if (!f.startsWith('/ai/')) return false;
    // ACE filters: a known domain on the caller's account (`domains/phone` is a documented mistake).
    const ace = parseAceEvent(f);
    return !ace || !isAceDomain(ace.domain) || (ace.accountId !== '~' && ace.accountId !== accountId);
  });
  if (unknown.length > 0) {
    return { status: 400, body: platformError('SUB-508', `Invalid event filters: [${unknown.join(', ')}]`) };
  }
  const periodS = o.reminderPeriodMs / 1000;
  for (const filter of filters) {
    const r = reminderOf(filter);
    if (
      r &&
      !(
        Number.isFinite(r.thresholdS) &&
        Number.isFinite(r.intervalS) &&
        r.thresholdS >= periodS &&
        r.thresholdS <= expiresInS / 2 &&
        r.intervalS >= periodS &&
        r.intervalS <= r.thresholdS / 2
      )
    ) {
      return { status: 400, body: platformError('SUB-516', 'Invalid reminder parameters') };
    }
  }
  return [...new Set(filters.map((f) => resolveFilter(f, accountId, ownerId)))];
}

/** Top-level `expiresIn`: absent → the default; above the maximum → clamped; below 1 or not an integer → refused. */
export function checkExpiresIn(value: unknown, o: SubscriptionOptions): number | Refusal {
  if (value === undefined || value === null) return o.defaultExpiresInS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return invalidParam('expiresIn');
  return Math.min(value, o.maxExpiresInS);
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

export function checkCreate(
  body: Record<string, unknown>,
  o: SubscriptionOptions,
  accountId: string,
  ownerId: string,
): CreateRequest | Refusal {
  const expiresInS = checkExpiresIn(body.expiresIn, o);
  if (isRefusal(expiresInS)) return expiresInS;
  const mode = body.deliveryMode;
  if (typeof mode !== 'object' || mode === null) return invalidParam('deliveryMode');
  const { transportType, address, verificationToken } = mode as Record<string, unknown>;
  if (transportType !== 'WebHook') return invalidParam('deliveryMode.transportType');
  let url: URL | null = null;
  try {
    url = typeof address === 'string' ? new URL(address) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return invalidParam('deliveryMode.address');
  if (o.requireHttps && url.protocol !== 'https:') {
    return { status: 400, body: platformError('SUB-523', 'HTTPS is required') };
  }
  if (verificationToken !== undefined && (typeof verificationToken !== 'string' || verificationToken.length > 64)) {
    return invalidParam('deliveryMode.verificationToken');
  }
  const eventFilters = checkFilters(body.eventFilters, expiresInS, o, accountId, ownerId);
  if (isRefusal(eventFilters)) return eventFilters;
  return {
    eventFilters,
    address: address as string,
    verificationToken: verificationToken ?? null,
    expiresInS,
  };
}
