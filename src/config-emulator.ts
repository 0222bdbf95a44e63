import {
  DEFAULT_EMULATOR_OPTIONS,
  MAX_DURATION_TEXT,
  parseDurationMs,
  parseRateLimit,
  type EmulatorConfig,
  type SubscriptionOptions,
} from './emulator/options.js';
import { invalid } from './config-values.js';
import { JobhookError } from './errors.js';
import type { OptionName } from './config.js';

/**
 * The `emulate`/`dev` fault and behaviour flags of config.ts's option table, validated into EmulatorOptions.
 * Part of config (it reads the environment config.ts hands it, for `--strict-client`'s credentials).
 */
export function parseEmulatorOptions(
  values: Partial<Record<OptionName, string | boolean | string[]>>,
  env: NodeJS.ProcessEnv,
): EmulatorConfig {
  const text = (name: OptionName): string | undefined => values[name] as string | undefined;
  const rate = (name: OptionName): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!(n >= 0 && n <= 1)) throw invalid(`--${name}`, value, 'a share between 0 and 1, e.g. 0.3');
    return n;
  };
  const duration = (name: OptionName): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = parseDurationMs(value);
    if (ms === undefined)
      throw invalid(`--${name}`, value, `a duration such as 250ms, 2s or 5m, up to ${MAX_DURATION_TEXT}`);
    return ms;
  };
  const options: EmulatorConfig = {};
  const latency = text('latency');
  if (latency !== undefined) {
    // `2s` is the range 2s-2s; a part that does not parse is refused, not replaced by the other.
    const parts = latency.split('-').map((part) => parseDurationMs(part));
    const [min, max] = parts.length === 1 ? [parts[0], parts[0]] : parts;
    if (parts.length > 2 || min === undefined || max === undefined || max < min) {
      throw invalid('--latency', latency, `a duration or a range such as 2s or 500ms-5s, up to ${MAX_DURATION_TEXT}`);
    }
    options.latency = { minMs: min, maxMs: max };
  }
  const rates = {
    failRate: 'fail-rate',
    dropRate: 'drop-rate',
    duplicateRate: 'duplicate-rate',
    unavailableRate: 'unavailable-rate',
  } as const;
  for (const [key, flag] of Object.entries(rates) as [keyof typeof rates, OptionName][]) {
    const value = rate(flag);
    if (value !== undefined) options[key] = value;
  }
  const delay = duration('delay');
  if (delay !== undefined) options.deliveryDelayMs = delay;
  const reorderWindow = duration('reorder-window');
  if (values.reorder === true || reorderWindow !== undefined) options.reorderWindowMs = reorderWindow ?? 2000;
  const rateLimit = text('rate-limit');
  if (rateLimit !== undefined) {
    const parsed = parseRateLimit(rateLimit);
    if (!parsed) throw invalid('--rate-limit', rateLimit, 'requests per window such as 10/min or 20/10s');
    options.rateLimit = parsed;
  }
  const retries = text('retries');
  const backoff = duration('retry-backoff');
  const timeout = duration('attempt-timeout');
  if (retries !== undefined || backoff !== undefined || timeout !== undefined) {
    if (retries !== undefined && !/^\d+$/.test(retries))
      throw invalid('--retries', retries, 'a count (0 disables redelivery)');
    options.redelivery = {
      retries: retries === undefined ? 5 : Number(retries),
      backoffMs: backoff ?? 2000,
      attemptTimeoutMs: timeout ?? 10_000,
    };
  }
  const subscriptions = parseSubscriptionFlags(text, duration);
  if (subscriptions) options.subscriptions = subscriptions;
  const aceDelay = duration('ace-delay');
  if (aceDelay !== undefined) options.ace = { insightsDelayMs: aceDelay };
  const seed = text('seed');
  if (seed !== undefined) options.seed = seed;
  if (values['strict-client'] === true) {
    // The developer guide's names first, the older short ones as aliases (as for `submit`, see cli/client.ts).
    const clientId = env.RC_APP_CLIENT_ID || env.RC_CLIENT_ID;
    const clientSecret = env.RC_APP_CLIENT_SECRET || env.RC_CLIENT_SECRET;
    if (!clientId || !clientSecret) {
      throw new JobhookError(
        'JH_ERR_INVALID_CONFIG',
        '--strict-client needs RC_APP_CLIENT_ID and RC_APP_CLIENT_SECRET (or RC_CLIENT_ID and RC_CLIENT_SECRET)',
      );
    }
    options.strictClient = { clientId, clientSecret };
  }
  return options;
}

/** A whole number from `min` up, or a usage error saying so (`what` reads after "a whole number of"). */
function count(name: OptionName, value: string | undefined, min: number, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min)) throw invalid(`--${name}`, value, `a whole number of ${what}${min > 0 ? `, at least ${min}` : ''}`);
  return n;
}

/**
 * The subscription group's flags (`--subscription-limit` … `--reminder-period`); undefined when none is
 * given. `delivery` is one object in SubscriptionOptions, so a flag for one of its fields carries the
 * defaults of the others.
 */
function parseSubscriptionFlags(
  text: (name: OptionName) => string | undefined,
  duration: (name: OptionName) => number | undefined,
): Partial<SubscriptionOptions> | undefined {
  const group: Partial<SubscriptionOptions> = {};
  // 0 is allowed: every create then answers 403 SUB-505, which is what a test of that refusal wants.
  const limit = count('subscription-limit', text('subscription-limit'), 0, 'subscriptions per user');
  if (limit !== undefined) group.perUserLimit = limit;
  const blacklist = count('blacklist-after', text('blacklist-after'), 1, 'failed notifications in a row');
  if (blacklist !== undefined) group.blacklistAfterFailures = blacklist;
  const retries = count('notify-retries', text('notify-retries'), 0, 'redeliveries (0 disables)');
  const timeout = duration('notify-timeout');
  // No answer can arrive within 0 ms: every notification would fail, and blacklist the subscription.
  if (timeout === 0) throw invalid('--notify-timeout', text('notify-timeout')!, 'a duration above 0, such as 3s');
  if (retries !== undefined || timeout !== undefined) {
    const d = DEFAULT_EMULATOR_OPTIONS.subscriptions.delivery;
    group.delivery = { ...d, retries: retries ?? d.retries, attemptTimeoutMs: timeout ?? d.attemptTimeoutMs };
  }
  const period = duration('reminder-period');
  // The reminder job runs every period (setInterval): below a second it is a busy loop, and thresholds and
  // intervals are given in whole seconds anyway.
  if (period !== undefined && period < 1000)
    throw invalid('--reminder-period', text('reminder-period')!, 'a duration of at least 1s, such as 60s');
  if (period !== undefined) group.reminderPeriodMs = period;
  return Object.keys(group).length > 0 ? group : undefined;
}
