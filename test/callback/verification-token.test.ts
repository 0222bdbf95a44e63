import { describe, expect, it } from 'vitest';
import {
  callbackPath,
  createKeyring,
  generateSecret,
  verifyCallbackPath,
  verifyMintedPath,
} from '../../src/callback/callback-url.js';
import { newRequestId } from '../../src/callback/request-id.js';
import {
  VERIFICATION_TOKEN_CHARS,
  verificationTokenFor,
  verifyVerificationToken,
} from '../../src/callback/verification-token.js';
import { tamperedPaths } from '../helpers/tampered-paths.js';

const keyring = createKeyring([generateSecret()]);

describe('subscription verification tokens', () => {
  it('are derived per request: the same twice, another for another request or another secret', () => {
    const requestId = newRequestId();
    const token = verificationTokenFor(keyring, requestId);
    expect(verificationTokenFor(keyring, requestId)).toBe(token);
    expect(verificationTokenFor(createKeyring([keyring.keys[0]!.toString('base64url')]), requestId)).toBe(token);
    expect(verificationTokenFor(keyring, newRequestId())).not.toBe(token);
    expect(verificationTokenFor(createKeyring([generateSecret()]), requestId)).not.toBe(token);
    expect(verifyVerificationToken(keyring, requestId, token)).toBe(true);
    expect(verifyVerificationToken(keyring, newRequestId(), token)).toBe(false);
    expect(verifyVerificationToken(createKeyring([generateSecret()]), requestId, token)).toBe(false);
  });

  it('are 32 base64url characters: within the 64 the emulator allows for deliveryMode.verificationToken', () => {
    for (let i = 0; i < 50; i++) {
      const token = verificationTokenFor(keyring, newRequestId());
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(token).toHaveLength(VERIFICATION_TOKEN_CHARS);
      expect(token.length).toBeLessThanOrEqual(64);
    }
  });

  it('refuse every edit, truncation, extension and other spelling of the token', () => {
    const requestId = newRequestId();
    const token = verificationTokenFor(keyring, requestId);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        expect(verifyVerificationToken(keyring, requestId, token.slice(0, i) + c + token.slice(i + 1))).toBe(false);
      }
    }
    expect(verifyVerificationToken(keyring, requestId, token.slice(0, -1))).toBe(false);
    expect(verifyVerificationToken(keyring, requestId, `${token}A`)).toBe(false);
    expect(verifyVerificationToken(keyring, requestId, '')).toBe(false);
    expect(verifyVerificationToken(keyring, requestId, ` ${token.slice(1)}`)).toBe(false);
    // A character latin1 would fold onto an ASCII one (U+0141 → 0x41 'A') must not pass for it.
    const folded = token.replace(/[A-Za-z0-9_-]$/, (c) => String.fromCharCode(c.charCodeAt(0) + 0x100));
    expect(verifyVerificationToken(keyring, requestId, folded)).toBe(false);
  });

  it('still verify after a secret rotation (the newest secret derives, every secret verifies)', () => {
    const oldSecret = generateSecret();
    const before = createKeyring([oldSecret]);
    const after = createKeyring([generateSecret(), oldSecret]);
    const requestId = newRequestId();
    const oldToken = verificationTokenFor(before, requestId);
    expect(verifyVerificationToken(after, requestId, oldToken)).toBe(true);
    const newToken = verificationTokenFor(after, requestId);
    expect(newToken).not.toBe(oldToken);
    expect(verifyVerificationToken(after, requestId, newToken)).toBe(true);
    expect(verifyVerificationToken(before, requestId, newToken)).toBe(false);
  });

  it('never equal (nor start) the URL tag of either kind: knowing the URL does not give the token', () => {
    for (let i = 0; i < 200; i++) {
      const requestId = newRequestId();
      const token = verificationTokenFor(keyring, requestId);
      for (const kind of ['job', 'subscription'] as const) {
        const tag = callbackPath(keyring, '/webhooks', requestId, kind).split('/').pop()!;
        expect(token).not.toBe(tag);
        expect(token.startsWith(tag.slice(0, 21))).toBe(false);
        expect(verifyVerificationToken(keyring, requestId, tag)).toBe(false);
      }
    }
  });
});

describe('subscription URLs and job URLs', () => {
  it('say which kind they were minted for; a tag of one kind never verifies as the other', () => {
    const requestId = newRequestId();
    const job = callbackPath(keyring, '/webhooks', requestId);
    const subscription = callbackPath(keyring, '/webhooks', requestId, 'subscription');
    expect(job).toBe(callbackPath(keyring, '/webhooks', requestId, 'job'));
    expect(subscription).not.toBe(job);
    expect(verifyMintedPath(keyring, '/webhooks', job)).toEqual({ requestId, kind: 'job' });
    expect(verifyMintedPath(keyring, '/webhooks', subscription)).toEqual({ requestId, kind: 'subscription' });
    expect(verifyMintedPath(keyring, '/webhooks', `${subscription}?x=1`)).toEqual({ requestId, kind: 'subscription' });
    // The job-URL check keeps its meaning: a subscription URL is not a job URL.
    expect(verifyCallbackPath(keyring, '/webhooks', job)).toBe(requestId);
    expect(verifyCallbackPath(keyring, '/webhooks', subscription)).toBeNull();
  });

  it('subscription URLs verify across rotation and refuse another secret and tampering', () => {
    const oldSecret = generateSecret();
    const requestId = newRequestId();
    const oldPath = callbackPath(createKeyring([oldSecret]), '/webhooks', requestId, 'subscription');
    const rotated = createKeyring([generateSecret(), oldSecret]);
    expect(verifyMintedPath(rotated, '/webhooks', oldPath)).toEqual({ requestId, kind: 'subscription' });
    expect(verifyMintedPath(createKeyring([generateSecret()]), '/webhooks', oldPath)).toBeNull();
    const accepted = tamperedPaths(oldPath, 5_000).filter((p) => verifyMintedPath(rotated, '/webhooks', p) !== null);
    expect(accepted).toEqual([]);
  });
});
