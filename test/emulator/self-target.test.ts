import { describe, expect, it } from 'vitest';
import { pointsAtListener } from '../../src/emulator/self-target.js';

describe('pointsAtListener', () => {
  const listener = { address: '0.0.0.0', port: 8787 };
  const own = new Set(['10.1.2.3', 'fe80::1']);

  it('matches the listener port on loopback, unspecified, own and listening addresses', () => {
    for (const url of [
      'http://127.0.0.1:8787/_emulator/reset',
      'http://127.255.0.1:8787/',
      'http://0x7f.1:8787/',
      'http://localhost:8787/',
      'http://[0:0:0:0:0:0:0:1]:8787/',
      'http://[::]:8787/',
      'http://[::ffff:7f00:1]:8787/',
      'http://0:8787/',
      'http://10.1.2.3:8787/',
      'http://[fe80::1]:8787/',
    ]) {
      expect(pointsAtListener(url, listener, own), url).toBe(true);
    }
    expect(pointsAtListener('http://192.168.7.7:8787/', { address: '192.168.7.7', port: 8787 }, own)).toBe(true);
    expect(pointsAtListener('http://127.0.0.1/', { address: '127.0.0.1', port: 80 }, own)).toBe(true);
    expect(pointsAtListener('https://localhost/', { address: '127.0.0.1', port: 443 }, own)).toBe(true);
  });

  it('leaves other ports, other hosts and unparsable values alone', () => {
    for (const url of [
      'http://127.0.0.1:8788/',
      'http://127.0.0.1/',
      'http://example.com:8787/',
      'http://10.1.2.4:8787/',
      'not a url',
    ]) {
      expect(pointsAtListener(url, listener, own), url).toBe(false);
    }
  });
});
