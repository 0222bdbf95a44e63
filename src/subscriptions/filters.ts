import { JobhookError } from '../errors.js';
import { ACE_DOMAINS, aceEventFilter, isAceDomain, parseAceEvent, type AceDomain } from '../ringcentral/ace.js';

/** Event filters, addresses and the local names of kept subscriptions: pure helpers of the CLI and the keeper. */

/** The ACE domains whose insights events `filters` subscribe to, each once, in `ACE_DOMAINS` order. */
export function aceDomainsOf(filters: readonly string[]): AceDomain[] {
  const found = new Set(filters.map((f) => parseAceEvent(f.split('?')[0]!)?.domain));
  return ACE_DOMAINS.filter((d) => found.has(d));
}

/**
 * `--domains pbx,rcv`: the ACE filters of those domains (all five when `domains` is null). An unknown
 * domain is a usage error listing the valid ones: `domains/phone` is a documented mistake.
 */
export function aceFilters(domains: readonly string[] | null): string[] {
  const chosen = domains ?? ACE_DOMAINS;
  if (chosen.length === 0) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--domains needs at least one of ${ACE_DOMAINS.join(', ')}`);
  }
  const unknown = chosen.filter((d) => !isAceDomain(d));
  if (unknown.length > 0) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `${unknown.join(', ')} ${unknown.length === 1 ? 'is not an ACE domain' : 'are not ACE domains'}; use one or more of ${ACE_DOMAINS.join(', ')}`,
    );
  }
  return [...new Set(chosen as AceDomain[])].map((d) => aceEventFilter(d));
}

/** Longest local name: it appears in tables, logs and the inspector's URLs. */
export const MAX_NAME_CHARS = 64;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Letters, digits and `._+-`, starting with a letter or digit, at most 64 characters. */
export function checkSubscriptionName(name: string): string {
  if (!NAME.test(name) || name.length > MAX_NAME_CHARS) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--name ${JSON.stringify(name)} is not a usable name: letters, digits and . _ + -, starting with a letter or digit, at most ${MAX_NAME_CHARS} characters`,
    );
  }
  return name;
}

/** Path segments that say nothing about the events: versions, account and extension placeholders and ids. */
const NOISE = new Set(['restapi', 'v1.0', 'v1', 'account', 'accounts', 'extension', '~', 'public', 'ai', 'ringsense']);

/**
 * A name for a subscription from its filters: each filter's telling path segments
 * (`/restapi/v1.0/account/~/extension/~/presence` → `presence`, `…/telephony/sessions` →
 * `telephony-sessions`, an ACE filter → `ace-pbx`), joined by `+`, shortened to fit.
 */
export function defaultSubscriptionName(filters: readonly string[]): string {
  const parts = filters.map((filter) => {
    const path = filter.split('?')[0]!;
    const ace = parseAceEvent(path);
    if (ace) return `ace-${ace.domain}`;
    const segments = path
      .split('/')
      .filter((s) => s !== '' && !NOISE.has(s.toLowerCase()) && !/^\d+$/.test(s))
      .map((s) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-'))
      .filter((s) => s !== '' && s !== '-');
    return segments.slice(-2).join('-') || 'events';
  });
  const unique = [...new Set(parts)];
  let name = unique.join('+');
  for (let kept = unique.length - 1; name.length > MAX_NAME_CHARS && kept >= 1; kept--) {
    name = `${unique.slice(0, kept).join('+')}+${unique.length - kept}-more`;
  }
  name = name.slice(0, MAX_NAME_CHARS).replace(/^[^A-Za-z0-9]+/, '');
  return name === '' ? 'events' : name;
}

/**
 * Whether two addresses are one URL: the platform may echo an address normalised (a lower-case host, a
 * default port dropped), and a keeper comparing text would then "move" the subscription every round.
 */
export function sameAddress(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** The path of an address, or null when it is not a URL. */
export const pathOf = (address: string | null): string | null => {
  if (address === null) return null;
  try {
    return new URL(address).pathname;
  } catch {
    return null;
  }
};
