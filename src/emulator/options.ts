/**
 * Emulator settings, and the per-job overrides a test can send with a job (header `X-Emulator-Faults` or
 * query parameter `_emulator`, e.g. `drop`, `fail`, `unavailable`, `duplicate=3`, `latency=2s`,
 * `delay=500ms`, `duration=3600`, `large`), so one emulator can reproduce every fault on demand.
 */
export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface RedeliveryPolicy {
  /** Redeliveries after the first attempt (the old guide: up to 5); 0 disables. */
  retries: number;
  /** Wait before the first redelivery; doubles after each. */
  backoffMs: number;
  /** An attempt with no answer within this counts as failed. */
  attemptTimeoutMs: number;
}

export interface RateLimit {
  /** Requests allowed per window, per client (submits and status reads share it, as the Heavy group does). */
  limit: number;
  windowMs: number;
  /** How long a client is refused after exceeding it; a request during the penalty restarts it. */
  penaltyMs: number;
}

/**
 * The push-notification side (reference §1–10): WebHook subscriptions, their handshake, delivery and
 * blacklisting. Defaults are the documented values; where the reference is silent, the emulator's choice.
 */
export interface SubscriptionOptions {
  /** Subscriptions per user (§9: 30); the next create answers `403 SUB-505`. */
  perUserLimit: number;
  /** Lifetime when `expiresIn` is absent or misplaced (about 7 days, §0). */
  defaultExpiresInS: number;
  /** Larger `expiresIn` values are clamped to this (spec: 10 years). */
  maxExpiresInS: number;
  /** The handshake answer must arrive within this (docs: 3000 ms). */
  handshakeTimeoutMs: number;
  /** Largest answer, status line, headers and body together, to a handshake or a notification (1024). */
  maxAnswerBytes: number;
  /** Per-notification timeout and redeliveries (undocumented for subscriptions: a few, quickly). */
  delivery: RedeliveryPolicy;
  /** Consecutive failed attempts that blacklist a subscription. */
  blacklistAfterFailures: number;
  /** Or: failing for this long (staff, 2018: 10 minutes). */
  blacklistAfterMs: number;
  /** Period of the renewal-reminder job; also the smallest `threshold`/`interval` accepted (in seconds). */
  reminderPeriodMs: number;
  /** Refuse `http:` addresses with `SUB-523` (production); off as in the sandbox. */
  requireHttps: boolean;
  /** Let `PUT` change `deliveryMode.address` (the current spec ignores it; older specs accepted it). */
  updatableAddress: boolean;
  /** Rate-limit groups of the subscription and ACE REST endpoints (§1, §12); off by default. */
  lightRateLimit: RateLimit | null;
  mediumRateLimit: RateLimit | null;
}

/** Simulated ACE calls (`POST /_emulator/ace/calls`). */
export interface AceOptions {
  /** From the call to its first insights event (minutes on the platform; short here). */
  insightsDelayMs: number;
  /** From the AI Notes event to the second, fuller one (§11.4). */
  aiNotesGapMs: number;
}

export interface EmulatorOptions {
  /** Seeds every random choice: same seed and inputs, same results. @defaultValue 'jobhook' */
  seed: string;
  /** Processing time of a job. @defaultValue 500ms–2s */
  latency: LatencyRange;
  /** Share of jobs that end `Fail`. @defaultValue 0 */
  failRate: number;
  /** Share of results never delivered (only the status endpoint has them). @defaultValue 0 */
  dropRate: number;
  /** Share of results delivered 2–3 times. @defaultValue 0 */
  duplicateRate: number;
  /** Extra wait before delivering a result. @defaultValue 0 */
  deliveryDelayMs: number;
  /** Hold finished results for this long and deliver them shuffled (0 = in completion order). @defaultValue 0 */
  reorderWindowMs: number;
  /** Share of submits answered 503. @defaultValue 0 */
  unavailableRate: number;
  /** Off by default for development; `10/min` reproduces the documented Heavy default. */
  rateLimit: RateLimit | null;
  redelivery: RedeliveryPolicy;
  /** Reject a submit without `webhook` (the spec requires it). @defaultValue true */
  requireWebhook: boolean;
  /** Check client credentials on the token endpoint; otherwise any well-formed JWT logs in. @defaultValue null */
  strictClient: { clientId: string; clientSecret: string } | null;
  /** Job lifetime before the status endpoint answers 404. @defaultValue 7 days */
  expiryMs: number;
  /** Access token lifetime. @defaultValue 3600 s */
  accessTokenTtlS: number;
  subscriptions: SubscriptionOptions;
  ace: AceOptions;
}

export const DEFAULT_EMULATOR_OPTIONS: Readonly<EmulatorOptions> = Object.freeze({
  seed: 'jobhook',
  latency: { minMs: 500, maxMs: 2000 },
  failRate: 0,
  dropRate: 0,
  duplicateRate: 0,
  deliveryDelayMs: 0,
  reorderWindowMs: 0,
  unavailableRate: 0,
  rateLimit: null,
  redelivery: { retries: 5, backoffMs: 2000, attemptTimeoutMs: 10_000 },
  requireWebhook: true,
  strictClient: null,
  expiryMs: 7 * 24 * 3600 * 1000,
  accessTokenTtlS: 3600,
  subscriptions: {
    perUserLimit: 30,
    defaultExpiresInS: 604_800,
    maxExpiresInS: 315_360_000,
    handshakeTimeoutMs: 3000,
    maxAnswerBytes: 1024,
    delivery: { retries: 2, backoffMs: 1000, attemptTimeoutMs: 3000 },
    blacklistAfterFailures: 10,
    blacklistAfterMs: 600_000,
    reminderPeriodMs: 60_000,
    requireHttps: false,
    updatableAddress: false,
    lightRateLimit: null,
    mediumRateLimit: null,
  },
  ace: { insightsDelayMs: 1000, aiNotesGapMs: 2000 },
});

/** What `createEmulator` takes: any subset, the nested groups field by field too. */
export type EmulatorConfig = Partial<Omit<EmulatorOptions, 'subscriptions' | 'ace'>> & {
  subscriptions?: Partial<SubscriptionOptions>;
  ace?: Partial<AceOptions>;
};

export function resolveEmulatorOptions(config: EmulatorConfig): EmulatorOptions {
  const d = DEFAULT_EMULATOR_OPTIONS;
  return {
    ...d,
    ...config,
    subscriptions: { ...d.subscriptions, ...config.subscriptions },
    ace: { ...d.ace, ...config.ace },
  };
}

/** Faults forced on one job; unset fields fall back to the emulator's rates. */
export interface JobOverrides {
  drop?: boolean;
  fail?: boolean;
  /** Answer this submit 503 (no job is created). */
  unavailable?: boolean;
  duplicate?: number;
  latencyMs?: number;
  delayMs?: number;
  durationS?: number;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest duration any setting may name: 24 days. Node's timers hold at most 2^31-1 ms (24.8 days) and
 * fire at once above it (with a TimeoutOverflowWarning), so `--timeout 999999h` gave up after 0.6 s.
 */
export const MAX_DURATION_MS = 24 * 24 * 3_600_000;
/** How `MAX_DURATION_MS` reads in an error message. */
export const MAX_DURATION_TEXT = '24 days (576h)';

/**
 * Parses `250ms`, `2s`, `5m`, `1h`; a bare number is `defaultUnit`. Undefined for anything else, and for
 * durations above `MAX_DURATION_MS`, which no timer can wait.
 */
export function parseDurationMs(text: string, defaultUnit: 'ms' | 's' = 'ms'): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? defaultUnit]!;
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * The longest `latency=` or `delay=` one job may ask for: 1 h. A test that needs a job to stay pending
 * longer does not need it to finish; a larger wait only pins a timer and the job in memory.
 */
export const MAX_JOB_WAIT_MS = 3_600_000;

/**
 * The largest `duration=` a job may ask for: 4 h of dialogue, about 6 MB of JSON with diarization (an hour
 * is about 1.5 MB). Without a bound one job produced 160 MB, stalled a co-hosted receiver for 7 s and took
 * the process to 1.5 GB.
 */
export const MAX_DURATION_S = 4 * 3600;
/** The most copies `duplicate=` may deliver: the real API's documented redelivery count. */
export const MAX_DUPLICATE_COPIES = 5;

/** Per-job overrides, or why they were refused (the emulator answers 400 with it). */
export type ParsedOverrides = { overrides: JobOverrides; problem?: undefined } | { problem: string };

const SWITCHES = new Set(['drop', 'fail', 'unavailable', 'large']);

/** The faults `_emulator` names, for the message that refuses any other. */
const FAULT_NAMES = 'drop, fail, unavailable, duplicate=N, latency=D, delay=D, duration=D, large';

/**
 * Parses `drop;duplicate=3;latency=2s` (`,` or `;` separated). Anything it cannot read — an unknown fault
 * (a typo, or percent-encoding that did not decode), a switch with a value other than true/false, a value
 * out of range — is refused rather than ignored or clamped, so a test never silently gets less than it
 * asked for.
 */
export function parseJobOverrides(text: string | undefined | null): ParsedOverrides {
  const overrides: JobOverrides = {};
  if (!text) return { overrides };
  for (const part of text.split(/[;,]/)) {
    if (part.trim() === '') continue;
    const [key = '', value, ...extra] = part.trim().split('=');
    if (extra.length > 0) return { problem: `${JSON.stringify(part.trim())} has more than one '='` };
    const switchValue =
      value === undefined || value === '' || value === 'true' ? true : value === 'false' ? false : undefined;
    if (SWITCHES.has(key) && switchValue === undefined) {
      return { problem: `${key}=${value ?? ''} should be ${key} alone, ${key}=true or ${key}=false` };
    }
    switch (key) {
      case 'drop':
        overrides.drop = switchValue;
        break;
      case 'fail':
        overrides.fail = switchValue;
        break;
      case 'unavailable':
        overrides.unavailable = switchValue;
        break;
      case 'duplicate': {
        const copies = value === undefined || value === '' ? 2 : Number(value);
        if (!Number.isInteger(copies) || copies < 1 || copies > MAX_DUPLICATE_COPIES) {
          return { problem: `duplicate=${value ?? ''} should be a count of copies from 1 to ${MAX_DUPLICATE_COPIES}` };
        }
        overrides.duplicate = copies;
        break;
      }
      case 'latency':
      case 'delay': {
        const ms = value === undefined ? undefined : parseDurationMs(value);
        if (ms === undefined || ms > MAX_JOB_WAIT_MS) {
          return { problem: `${key}=${value ?? ''} should be a duration up to 1 h, e.g. 250ms, 2s or 5m` };
        }
        if (key === 'latency') overrides.latencyMs = ms;
        else overrides.delayMs = ms;
        break;
      }
      case 'duration': {
        const ms = value === undefined ? undefined : parseDurationMs(value, 's');
        if (ms === undefined || ms > MAX_DURATION_S * 1000) {
          return {
            problem: `duration=${value ?? ''} should be a length of audio up to 4 h (${MAX_DURATION_S} s), e.g. 600 or 30m`,
          };
        }
        overrides.durationS = ms / 1000;
        break;
      }
      case 'large':
        if (switchValue) overrides.durationS = 3600;
        break;
      default:
        return { problem: `unknown fault ${JSON.stringify(part.trim())}; expected ${FAULT_NAMES}` };
    }
  }
  return { overrides };
}

/** Parses `10/min`, `20/10s`, `100/h`. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^(\d+)\/(\d*)(ms|s|m|min|h)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = match[3] === 'min' ? 'm' : match[3]!;
  const windowMs = (match[2] ? Number(match[2]) : 1) * UNIT_MS[unit]!;
  return { limit: Number(match[1]), windowMs, penaltyMs: windowMs };
}
