import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';

describe('error codes', () => {
  it('are all documented in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``))).toEqual([]);
  });
});
