import { createHash } from 'node:crypto';
import { normalizePathPrefix } from './callback-url.js';

/**
 * `--accept <path>`: fixed callback paths such as RingCentral's guide uses (`${NGROK_URL}/webhook`,
 * `…/conversations/webhooks/<your id>`), taken as they are so existing code keeps working behind jobhook.
 * Unlike minted URLs they carry no tag: anyone who learns the URL can post there, so what arrives is kept
 * as unverified. Each distinct full path is its own request, with a request ID derived from the path
 * (a UUIDv8: stable across processes and restarts, so redeliveries to the path meet their first copy).
 */
export function normalizeAcceptPaths(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => normalizePathPrefix(p)))];
}

/** The accepted path a request path falls under (itself or below it), without its query; null otherwise. */
export function matchAcceptedPath(acceptPaths: readonly string[], rawPath: string): string | null {
  if (acceptPaths.length === 0) return null;
  const path = rawPath.split('?')[0]!.replace(/\/+$/, '') || '/';
  for (const accepted of acceptPaths) {
    if (path === accepted || path.startsWith(`${accepted}/`)) return path;
  }
  return null;
}

export function acceptedRequestId(path: string): string {
  const hex = createHash('sha256').update(`jobhook/accept:${path}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
