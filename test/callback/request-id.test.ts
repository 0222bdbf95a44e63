import { describe, expect, it } from 'vitest';
import { isRequestId, newRequestId, requestIdTimeMs } from '../../src/callback/request-id.js';

describe('request IDs', () => {
  it('are UUIDv7 strings carrying their creation time', () => {
    const now = Date.UTC(2026, 10, 25, 8, 0, 0, 123);
    const id = newRequestId(now);
    expect(isRequestId(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(requestIdTimeMs(id)).toBe(now);
  });

  it('sort by time and do not repeat', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => newRequestId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => newRequestId())).size).toBe(10_000);
  });

  it('rejects other strings', () => {
    expect(isRequestId('c53c06a2-5cbd-11ee-819d-0050568c1bf3')).toBe(false); // a v1 UUID (RingCentral jobId)
    expect(isRequestId('../etc/passwd')).toBe(false);
  });
});
