import { describe, expect, it } from 'vitest';
import { openTunnel, type NgrokLike } from '../../src/cli/tunnel.js';
import { parseInvocation } from '../../src/config.js';

/** A stand-in for the @ngrok/ngrok package: the boundary with ngrok's cloud. */
function fakeNgrok(url: string | null = 'https://a1b2.ngrok.app/') {
  const calls: unknown[] = [];
  let closed = false;
  const agent: NgrokLike = {
    async forward(config) {
      calls.push(config);
      return { url: () => url, close: async () => void (closed = true) };
    },
  };
  return { agent, calls, closed: () => closed };
}

describe('--tunnel ngrok', () => {
  it('forwards only the receiver port, authenticated from NGROK_AUTHTOKEN, and returns its URL', async () => {
    const ngrok = fakeNgrok();
    const tunnel = await openTunnel('ngrok', 3123, { NGROK_AUTHTOKEN: 'tok' }, ngrok.agent);
    expect(ngrok.calls).toEqual([{ addr: '127.0.0.1:3123', authtoken_from_env: true }]);
    expect(tunnel.url).toBe('https://a1b2.ngrok.app');
    await tunnel.close();
    expect(ngrok.closed()).toBe(true);
  });

  it('explains what is missing', async () => {
    await expect(openTunnel('ngrok', 1, {}, fakeNgrok().agent)).rejects.toThrow(/NGROK_AUTHTOKEN/);
    await expect(openTunnel('cloudflared', 1, { NGROK_AUTHTOKEN: 't' }, fakeNgrok().agent)).rejects.toThrow(
      /--public-url/,
    );
    await expect(openTunnel('ngrok', 1, { NGROK_AUTHTOKEN: 't' }, fakeNgrok(null).agent)).rejects.toThrow(
      /without a URL/,
    );
    expect(() => parseInvocation(['serve', '--tunnel', 'ngrok', '--public-url', 'https://x.example'], {})).toThrow(
      /exclude each other/,
    );
  });

  it('loads the real agent library, which exports forward()', async () => {
    const real = (await import('@ngrok/ngrok')) as unknown as Partial<NgrokLike>;
    expect(typeof real.forward).toBe('function');
  });
});
