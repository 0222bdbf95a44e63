import { describe, expect, it } from 'vitest';
import {
  callbackPath,
  callbackUrl,
  createKeyring,
  generateSecret,
  normalizePathPrefix,
  verifyCallbackPath,
} from '../../src/callback/callback-url.js';
import { newRequestId } from '../../src/callback/request-id.js';
import { tamperedPaths } from '../helpers/tampered-paths.js';

const keyring = createKeyring([generateSecret()]);

describe('callback URLs', () => {
  it('mints a URL under the public base and prefix that verifies to its request ID', () => {
    const requestId = newRequestId();
    const url = callbackUrl(keyring, 'https://abc.ngrok.app/', '/webhooks', requestId);
    expect(url).toMatch(new RegExp(`^https://abc\\.ngrok\\.app/webhooks/${requestId}/[A-Za-z0-9_-]{22}$`));
    const path = new URL(url).pathname;
    expect(verifyCallbackPath(keyring, '/webhooks', path)).toBe(requestId);
    // A query string appended by a proxy or tunnel does not matter.
    expect(verifyCallbackPath(keyring, '/webhooks', `${path}?webhook`)).toBe(requestId);
  });

  it('rejects 10 000 truncated, edited, extended and random paths', () => {
    const valid = callbackPath(keyring, '/webhooks', newRequestId());
    const accepted = tamperedPaths(valid, 10_000).filter((p) => verifyCallbackPath(keyring, '/webhooks', p) !== null);
    expect(accepted).toEqual([]);
  });

  it('does not accept another spelling of the same tag bits', () => {
    const valid = callbackPath(keyring, '/webhooks', newRequestId());
    const last = valid.at(-1)!;
    // The last base64url character of a 16-byte tag carries 2 spare bits: flipping them decodes identically.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    const sibling = alphabet[index ^ 1]!;
    expect(verifyCallbackPath(keyring, '/webhooks', valid.slice(0, -1) + sibling)).toBeNull();
  });

  it('rejects a URL minted by another installation or under another prefix', () => {
    const other = createKeyring([generateSecret()]);
    const requestId = newRequestId();
    expect(verifyCallbackPath(keyring, '/webhooks', callbackPath(other, '/webhooks', requestId))).toBeNull();
    expect(verifyCallbackPath(keyring, '/hooks', callbackPath(keyring, '/webhooks', requestId))).toBeNull();
  });

  it('keeps verifying URLs minted with a previous secret after rotation', () => {
    const oldSecret = generateSecret();
    const before = createKeyring([oldSecret]);
    const after = createKeyring([generateSecret(), oldSecret]);
    const requestId = newRequestId();
    const oldPath = callbackPath(before, '/webhooks', requestId);
    expect(verifyCallbackPath(after, '/webhooks', oldPath)).toBe(requestId);
    // The newest secret mints.
    expect(callbackPath(after, '/webhooks', requestId)).not.toBe(oldPath);
    expect(verifyCallbackPath(createKeyring([generateSecret()]), '/webhooks', oldPath)).toBeNull();
  });

  it('normalises path prefixes and rejects unusable ones', () => {
    expect(normalizePathPrefix('webhooks/')).toBe('/webhooks');
    expect(normalizePathPrefix('/rc/ai/callbacks')).toBe('/rc/ai/callbacks');
    for (const bad of ['', '/', 'a b', '/x?y']) {
      expect(() => normalizePathPrefix(bad)).toThrow(expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }));
    }
    expect(() => createKeyring([])).toThrow(expect.objectContaining({ code: 'JH_ERR_INVALID_ARGUMENT' }));
  });
});
