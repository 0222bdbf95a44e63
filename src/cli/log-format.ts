/**
 * `--log-format pretty`: pino's JSON lines turned into one short line per event for a person at a terminal,
 * e.g. `10:41:02 info  delivery stored  req 0190a1b2… job 8f2c4d1e…  deliveryId=3`. Written here rather than
 * taken from pino-pretty: a dozen lines, no transport thread, no new dependency, and it stays synchronous
 * (a line is on the terminal before the next one is made, as with the JSON destination).
 */
export type LogFormat = 'pretty' | 'json';

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Fields shown in the line's fixed part, or not at all (pino's own bookkeeping). */
const SHOWN_APART = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name', 'requestId', 'jobId', 'err']);

const short = (id: string): string => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

function scalar(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // A field is context, not content: long values (arrays of ids, bodies) are cut so a line stays one line.
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** One pino JSON line → one readable line (with its newline); a line that is not JSON passes unchanged. */
export function formatLogLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVEL_NAMES[event.level as number] ?? String(event.level);
  const time = clock(typeof event.time === 'number' ? event.time : Date.now());
  const parts = [`${time} ${level.padEnd(5)} ${typeof event.msg === 'string' ? event.msg : ''}`.trimEnd()];
  const ids: string[] = [];
  if (typeof event.requestId === 'string') ids.push(`req ${short(event.requestId)}`);
  if (typeof event.jobId === 'string') ids.push(`job ${short(event.jobId)}`);
  if (ids.length > 0) parts.push(ids.join(' '));
  const rest = Object.entries(event)
    .filter(([key, value]) => !SHOWN_APART.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${scalar(value)}`);
  if (rest.length > 0) parts.push(rest.join(' '));
  const err = event.err as { message?: unknown; type?: unknown } | undefined;
  if (err && typeof err.message === 'string') parts.push(`error: ${err.message}`);
  return `${parts.filter((p) => p !== '').join('  ')}\n`;
}

/** A pino destination that writes each event through `formatLogLine` to `target`. */
export function prettyDestination(target: { write(text: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      target.write(formatLogLine(line));
    },
  };
}
