import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODE_OF, exitCodeFor } from '../../src/cli/exit-codes.js';
import { ERROR_CODES, JobhookError } from '../../src/errors.js';

/** The rows of docs/errors.md's exit-code table: exit code → the error codes it lists. */
function documentedExitCodes(): Map<number, string[]> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = doc.split('## CLI exit codes')[1]!.split('\n## ')[0]!;
  const rows = new Map<number, string[]>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$/.exec(line);
    if (cells)
      rows.set(
        Number(cells[1]),
        [...cells[3]!.matchAll(/`(JH_ERR_[A-Z_]+)`/g)].map((m) => m[1]!),
      );
  }
  return rows;
}

describe('CLI exit codes', () => {
  it('map every error code to an exit code documented in docs/errors.md, in the row that lists it', () => {
    const documented = documentedExitCodes();
    expect([...documented.keys()].sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
    for (const code of ERROR_CODES) {
      const exit = EXIT_CODE_OF[code];
      expect(exit, code).toBeDefined();
      expect(documented.get(exit), `${code} → ${exit}`).toContain(code);
    }
    // No documented error code that the code does not have, and none listed twice.
    const listed = [...documented.values()].flat();
    expect([...listed].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('keeps the promised numbers and gives 70 only to what is not a JobhookError', () => {
    expect(exitCodeFor(new JobhookError('JH_ERR_NOT_FOUND', 'x'))).toBe(1);
    expect(exitCodeFor(new JobhookError('JH_ERR_INVALID_CONFIG', 'x'))).toBe(2);
    expect(exitCodeFor(new JobhookError('JH_ERR_JOB_FAILED', 'x'))).toBe(3);
    expect(exitCodeFor(new JobhookError('JH_ERR_TIMEOUT', 'x'))).toBe(4);
    expect(exitCodeFor(new JobhookError('JH_ERR_JOB_EXPIRED', 'x'))).toBe(5);
    expect(exitCodeFor(new JobhookError('JH_ERR_PLATFORM_UNREACHABLE', 'x'))).toBe(6);
    expect(exitCodeFor(new JobhookError('JH_ERR_STORE_UNAVAILABLE', 'x'))).toBe(7);
    expect(exitCodeFor(new TypeError('boom'))).toBe(70);
    expect(exitCodeFor('a string')).toBe(70);
  });
});
