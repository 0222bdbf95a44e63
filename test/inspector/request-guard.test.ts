import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRefusalLog, guardRequest, type GuardContext } from '../../src/inspector/request-guard.js';

/** The guard reads only method, headers and the peer address, so a plain object stands in for a request. */
function request(headers: Record<string, string>, method = 'GET', remoteAddress = '127.0.0.1'): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, headers: lower, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const reason = (req: IncomingMessage, context: GuardContext, path = '/api/requests'): string | null =>
  guardRequest(req, path, context)?.reason ?? null;

describe('guardRequest: which Host names a listener serves', () => {
  it('on a specific address: loopback names and that address, any port; nothing else', () => {
    const context = { listenHost: '192.168.1.5', hasToken: true };
    for (const host of ['192.168.1.5:4040', '192.168.1.5', '127.0.0.1:1', 'localhost', '[::1]:4040']) {
      expect(reason(request({ host }), context), host).toBeNull();
    }
    for (const host of ['attacker.example', '192.168.1.6:4040', '192.168.1.5.evil.example', 'a:b:c', '']) {
      expect(reason(request({ host }, 'GET', '10.0.0.9'), context), host).toBe('foreign-host');
    }
  });

  it('on an IPv6 loopback address: the bracketed form', () => {
    const context = { listenHost: '::1', hasToken: false };
    expect(reason(request({ host: '[::1]:4040' }), context)).toBeNull();
    expect(reason(request({ host: '[::2]:4040' }), context)).toBe('foreign-host');
  });

  it('on a wildcard address: any Host when a token is required, loopback names only without one', () => {
    for (const listenHost of ['0.0.0.0', '::']) {
      expect(reason(request({ host: 'my-laptop.lan:4040' }), { listenHost, hasToken: true })).toBeNull();
      expect(reason(request({ host: 'my-laptop.lan:4040' }), { listenHost, hasToken: false })).toBe('foreign-host');
      expect(reason(request({ host: 'localhost:4040' }), { listenHost, hasToken: false })).toBeNull();
    }
  });

  it('without a Host header (HTTP/1.0): served only to a loopback peer', () => {
    const context = { listenHost: '127.0.0.1', hasToken: false };
    expect(reason(request({}, 'GET', '127.0.0.1'), context)).toBeNull();
    expect(reason(request({}, 'GET', '::ffff:127.0.0.1'), context)).toBeNull();
    expect(reason(request({}, 'GET', '10.1.2.3'), context)).toBe('foreign-host');
  });

  it('before listen(): loopback only', () => {
    expect(reason(request({ host: 'localhost' }), { listenHost: null, hasToken: false })).toBeNull();
    expect(reason(request({ host: 'attacker.example' }), { listenHost: null, hasToken: false })).toBe('foreign-host');
  });
});

describe('guardRequest: origins and content types', () => {
  const context = { listenHost: '127.0.0.1', hasToken: false };
  const host = '127.0.0.1:4040';

  it('accepts the own origin, including the default port spelled either way', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    expect(reason(request({ host, origin: 'http://127.0.0.1:4040', ...json }, 'POST'), context)).toBeNull();
    expect(reason(request({ host: '127.0.0.1', origin: 'http://127.0.0.1:80', ...json }, 'POST'), context)).toBeNull();
    expect(reason(request({ host, origin: 'https://127.0.0.1:4040', ...json }, 'POST'), context)).toBe('cross-origin');
    expect(reason(request({ host, origin: 'http://localhost:4040', ...json }, 'POST'), context)).toBe('cross-origin');
  });

  it('refuses writes of every type but JSON, whatever else the request says', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const headers: Record<string, string> = { host, origin: 'http://127.0.0.1:4040' };
      if (type) headers['content-type'] = type;
      expect(reason(request(headers, 'POST'), context), type).toBe('not-json');
      expect(reason(request(headers, 'DELETE'), context), type).toBe('not-json');
    }
  });

  it('lets HEAD and GET of the page through from a link on another site, not API reads', () => {
    const crossSite = { host, 'sec-fetch-site': 'cross-site' };
    expect(reason(request(crossSite, 'GET'), context, '/')).toBeNull();
    expect(reason(request(crossSite, 'HEAD'), context, '/app.css')).toBeNull();
    expect(reason(request(crossSite, 'GET'), context, '/api/events')).toBe('cross-origin');
  });
});

describe('createRefusalLog', () => {
  it('logs once per (reason, subject) and at most `capacity` lines, the last saying so', () => {
    const lines: string[] = [];
    const log = createRefusalLog((_fields, message) => lines.push(message), 3);
    const refusal = (subject: string) => ({
      status: 403 as const,
      reason: 'cross-origin' as const,
      message: '',
      subject,
    });
    for (let i = 0; i < 1000; i++) log(refusal(`http://evil-${i % 10}.example`), '/api/mint');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/not logged/);
  });
});
