import { MAX_DURATION_TEXT, parseDurationMs } from './emulator/options.js';
import { JobhookError } from './errors.js';

/**
 * Pure parsers of option values for config.ts, each refusing bad input with a JH_ERR_INVALID_CONFIG that
 * names the flag and what it takes, and turning node's argument errors into one line with the fix.
 * Nothing here reads the environment.
 */

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function parseLogFormat(value: string | undefined): 'pretty' | 'json' | null {
  if (value === undefined) return null;
  if (value !== 'pretty' && value !== 'json') throw invalid('--log-format', value, 'pretty or json');
  return value;
}

export function parseDuration(flag: string, value: string): number {
  const ms = parseDurationMs(value, 's');
  if (ms === undefined) throw invalid(flag, value, `a duration such as 30s, 10m or 0, up to ${MAX_DURATION_TEXT}`);
  return ms;
}

const LIFETIME_UNITS_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/**
 * A subscription lifetime in whole seconds: `3600`, `90m`, `7d`, `10y` (a year is 365 days). Longer than
 * other durations (no timer waits for it), at least 1 s; the platform's maximum is applied where it is sent.
 */
export function parseLifetime(flag: string, value: string): number {
  const match = /^(\d+)\s*([smhdwy]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * LIFETIME_UNITS_S[match[2] || 's']! : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw invalid(flag, value, 'a lifetime such as 3600, 90m, 7d or 10y (at least 1s)');
  }
  return seconds;
}

/**
 * node's parseArgs errors (several sentences, the flag quoted twice) as one line that says the fix: the
 * nearest known flag for a typo, the missing value's form, or that a switch takes no value.
 */
export function argumentError(error: unknown, optionNames: readonly string[]): JobhookError {
  const { code, message } = error as { code?: string; message: string };
  const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  let line = message.split('\n')[0]!;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const guess = didYouMean(name, optionNames);
    line = `unknown option ${flag}; ${guess ? `did you mean --${guess}?` : 'see jobhook <command> --help'}`;
  } else if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && message.includes('does not take an argument')) {
    line = `${flag} takes no value; write ${flag} alone`;
  } else if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // `argument missing` (last on the line) or `ambiguous` (followed by another flag): the value was left out.
    line = `${flag} needs a value; write ${flag} <value> (or ${flag}=<value> for a value starting with -)`;
  }
  return new JobhookError('JH_ERR_INVALID_CONFIG', line, { cause: error });
}

/**
 * The candidate nearest to a mistyped word: one it starts (`--cont`), or within a small edit distance
 * (a third of its length, at least 1: `--content-url`, `--bdy`). Undefined when nothing is close.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (word.length >= 3) {
    const extended = candidates.filter((c) => c.startsWith(word));
    if (extended.length === 1) return extended[0];
  }
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions (`--boyd` is one step from `--body`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export function invalid(flag: string, value: string, expected: string): JobhookError {
  return new JobhookError(
    'JH_ERR_INVALID_CONFIG',
    `${flag}: ${JSON.stringify(value)} is not valid; expected ${expected}`,
  );
}

export function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw invalid(flag, value, 'a port number 0-65535 (0 picks a free one)');
  return port;
}

export function parseCount(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw invalid(flag, value, 'a positive integer');
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Parses `1048576`, `512KiB`, `64MiB`, `50MB`, `1g`. Binary units for bare letters. */
export function parseSize(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw invalid(flag, value, 'a size such as 64MiB, 50MB or 1048576');
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1) throw invalid(flag, value, 'a size of at least 1 byte');
  return bytes;
}

/** `--content-uri`: the platform fetches the media itself, so only an absolute http(s) URL can work. */
export function parseMediaUrl(value: string): string {
  const expected = 'an http(s) URL of the audio, e.g. https://example.com/call.mp3';
  if (!URL.canParse(value)) throw invalid('--content-uri', value, expected);
  if (!/^https?:$/.test(new URL(value).protocol)) throw invalid('--content-uri', value, expected);
  return value;
}

export function parseHttpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(flag, value, 'an absolute http(s) URL such as https://abc.ngrok.app');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(flag, value, 'an http or https URL');
  return url.toString();
}

export function parsePublicUrl(value: string): string {
  const url = parseHttpUrl('--public-url', value);
  if (new URL(url).search || new URL(url).hash)
    throw invalid('--public-url', value, 'a base URL without query or fragment');
  return url.replace(/\/+$/, '');
}

/** Where the store lives: a SQLite file (embedded, one machine) or a PostgreSQL database (a fleet). */
export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** `postgres://` / `postgresql://` select PostgreSQL; any other URL scheme is a mistake; anything else is a path. */
export function parseDatabase(value: string): DatabaseTarget {
  const expected = 'a SQLite file path or a postgres://user@host:port/database URL';
  if (/^postgres(ql)?:/i.test(value)) {
    let url: URL | null = null;
    try {
      url = /^postgres(ql)?:\/\//i.test(value) ? new URL(value) : null;
    } catch {
      url = null;
    }
    if (!url) throw invalid('--db', redactUrlText(value), 'a postgres://user@host:port/database URL');
    if (url.searchParams.get('schema') === '') {
      throw invalid('--db', redactUrlText(value), 'a schema name after ?schema= (or no ?schema= for public)');
    }
    return { kind: 'postgres', url: value };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw invalid('--db', redactUrlText(value), expected);
  if (value === '') throw invalid('--db', value, expected);
  return { kind: 'sqlite', path: value };
}

/** A URL as text, its credentials hidden (`user:secret@`, `?password=`), for messages about a bad one. */
function redactUrlText(value: string): string {
  return value.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@').replace(/(ssl)?password=[^&]*/gi, '$1password=***');
}

/** The database for messages and logs: a PostgreSQL URL without its password. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return target.path;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    // libpq also takes secrets as parameters (`?password=`, `?sslpassword=`).
    for (const name of ['password', 'sslpassword']) if (url.searchParams.has(name)) url.searchParams.set(name, '***');
    return url.toString();
  } catch {
    return redactUrlText(target.url);
  }
}
