import { EXIT, type ExitCode } from './exit-codes.js';

/**
 * One line of `jobhook doctor`: what was checked, how it went, the platform's error code when there is one
 * (the code RingCentral answers, or would answer, for this problem), and what to do.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info' | 'skip';

export interface CheckResult {
  /** Stable name, for `--json` readers: `login`, `scope:RingSense`, `handshake`, `subscription:<name>`… */
  check: string;
  status: CheckStatus;
  summary: string;
  /** The platform's error code (`OAU-140`, `SUB-520`…), or null when the problem has none. */
  code: string | null;
  /** What to do; null when nothing is to be done. */
  fix: string | null;
  /** Measurements and what was read, for `--json`. */
  details?: Record<string, unknown>;
  /** A failure's exit code when it is not a problem of configuration (exit 2): the platform unreachable (6). */
  exit?: ExitCode;
}

export type Emit = (result: CheckResult) => void;

export function result(
  check: string,
  status: CheckStatus,
  summary: string,
  more: { code?: string | null; fix?: string | null; details?: Record<string, unknown>; exit?: ExitCode } = {},
): CheckResult {
  return { check, status, summary, code: more.code ?? null, fix: more.fix ?? null, ...pick(more) };
}

function pick(more: { details?: Record<string, unknown>; exit?: ExitCode }): Partial<CheckResult> {
  return {
    ...(more.details === undefined ? {} : { details: more.details }),
    ...(more.exit === undefined ? {} : { exit: more.exit }),
  };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', info: 'info', skip: 'skip' };
const LABEL_WIDTH = 34;

/** `FAIL  handshake   SUB-520: …` and, for a problem, an indented `fix:` line. */
export function formatCheck(r: CheckResult): string {
  const label = r.check.length < LABEL_WIDTH ? r.check.padEnd(LABEL_WIDTH) : `${r.check} `;
  const line = `${MARK[r.status].padEnd(5)} ${label}${r.code ? `${r.code}: ` : ''}${r.summary}\n`;
  return r.fix && (r.status === 'fail' || r.status === 'warn') ? `${line}${' '.repeat(6)}fix: ${r.fix}\n` : line;
}

/** 0 when nothing failed; otherwise the first failure's exit code (2, configuration, unless it says 6). */
export function doctorExitCode(results: readonly CheckResult[]): ExitCode {
  const first = results.find((r) => r.status === 'fail');
  return first ? (first.exit ?? EXIT.usage) : EXIT.ok;
}

export function formatSummary(results: readonly CheckResult[]): string {
  const count = (status: CheckStatus): number => results.filter((r) => r.status === status).length;
  const problems = count('fail');
  const warnings = count('warn');
  if (problems === 0) {
    return warnings === 0
      ? 'all checks passed\n'
      : `no problem found; ${warnings} warning${warnings === 1 ? '' : 's'} above\n`;
  }
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(problems, 'problem')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}: see the fix lines above\n`;
}

/** The `--json` document: every check without its internal exit code, the verdict and the exit code. */
export function jsonReport(results: readonly CheckResult[]): Record<string, unknown> {
  const exitCode = doctorExitCode(results);
  return {
    ok: exitCode === EXIT.ok,
    exitCode,
    checks: results.map((r) => {
      const copy = { ...r };
      delete copy.exit;
      return copy;
    }),
  };
}
