import { randomBytes } from 'node:crypto';

const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Time-ordered, so the
 * request table's primary key grows at the end, and unguessable, though the URL tag, not the ID, carries the security.
 */
export function newRequestId(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isRequestId(value: string): boolean {
  return REQUEST_ID_PATTERN.test(value);
}

/** The creation time embedded in a request ID. */
export function requestIdTimeMs(requestId: string): number {
  return parseInt(requestId.slice(0, 8) + requestId.slice(9, 13), 16);
}
