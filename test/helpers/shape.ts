import { readFileSync } from 'node:fs';

/** Loads a shape fixture from test/fixtures/shapes. */
export function loadShape(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/shapes/${name}.json`, import.meta.url), 'utf8'));
}

/**
 * Walks `actual` against a shape fixture and returns every mismatch as `path: problem` (empty when it fits).
 * Objects: every fixture key is required unless it ends in `?`; keys the fixture does not list are errors.
 * Arrays: each element must fit at least one of the fixture's example elements. Scalars: same JSON type.
 */
export function shapeMismatches(actual: unknown, shape: unknown, path = '$'): string[] {
  if (shape === '<any>') return [];
  if (Array.isArray(shape)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array`];
    return actual.flatMap((item, i) => {
      const attempts = shape.map((alt) => shapeMismatches(item, alt, `${path}[${i}]`));
      return attempts.some((a) => a.length === 0) ? [] : attempts.reduce((a, b) => (a.length <= b.length ? a : b));
    });
  }
  if (typeof shape === 'object' && shape !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${path}: expected an object`];
    const record = actual as Record<string, unknown>;
    const problems: string[] = [];
    const known = new Set<string>();
    for (const [rawKey, sub] of Object.entries(shape)) {
      const optional = rawKey.endsWith('?');
      const key = optional ? rawKey.slice(0, -1) : rawKey;
      known.add(key);
      if (!(key in record)) {
        if (!optional) problems.push(`${path}.${key}: missing`);
        continue;
      }
      problems.push(...shapeMismatches(record[key], sub, `${path}.${key}`));
    }
    for (const key of Object.keys(record)) if (!known.has(key)) problems.push(`${path}.${key}: not in the shape`);
    return problems;
  }
  return typeof actual === typeof shape ? [] : [`${path}: expected ${typeof shape}, got ${typeof actual}`];
}
