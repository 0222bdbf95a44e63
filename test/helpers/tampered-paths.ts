import { randomBytes, randomInt } from 'node:crypto';
import { newRequestId } from '../../src/callback/request-id.js';

/** Variations of a valid path that must never verify: truncations, single-character edits, extensions. */
export function tamperedPaths(valid: string, count: number): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/.%';
  const out: string[] = [];
  while (out.length < count) {
    const kind = out.length % 4;
    let path: string;
    if (kind === 0) {
      path = valid.slice(0, randomInt(1, valid.length));
    } else if (kind === 1) {
      const i = randomInt(1, valid.length);
      let c = valid[i]!;
      while (c === valid[i]) c = alphabet[randomInt(alphabet.length)]!;
      path = valid.slice(0, i) + c + valid.slice(i + 1);
    } else if (kind === 2) {
      path = `/webhooks/${newRequestId()}/${randomBytes(16).toString('base64url')}`;
    } else {
      path = valid + alphabet[randomInt(alphabet.length)]!;
    }
    if (path !== valid) out.push(path);
  }
  return out;
}
