import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalApi, type LocalApiHarness } from '../helpers/local-api-harness.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';

/**
 * jobhook issue #9 in a real browser: a page on another origin (here another port of 127.0.0.1) fires every
 * kind of request a hostile page can at the local API, and a DNS-rebinding page (attacker.example mapped
 * to 127.0.0.1 by the browser's resolver) loads it under a foreign Host. Nothing may be minted, replayed or
 * read; the inspector page itself must still list and replay.
 */
warnIfNoChromium('hostile-page browser tests');

interface Seen {
  method: string;
  url: string;
  status: number;
  origin: string | undefined;
}

/** The attacker's page: every attempt runs, then `window.__results` holds what the page could read. */
function attackerPage(target: string, requestId: string): string {
  const replay = `${target}/api/requests/${requestId}/replay`;
  // Each form has its own frame: a second submission into the same frame would cancel the first.
  const form = (enctype: string, action: string, frame: string) =>
    `<iframe name="${frame}" hidden></iframe>
     <form method="POST" action="${action}" enctype="${enctype}" target="${frame}">
       <input name='{"kind":"job","x":"' value='"}'></form>`;
  const sandboxed = `<script>
      fetch('${target}/api/mint', { method: 'POST', mode: 'no-cors', body: '{}' });
      fetch('${target}/api/mint', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/json' }, body: '{}' });
      fetch('${replay}', { method: 'POST', mode: 'no-cors', body: '{}' });
    </script>
    <iframe name="inner" hidden></iframe>
    <form method="POST" action="${target}/api/mint" enctype="text/plain" target="inner"><input name="a" value="b"></form>
    <script>document.forms[0].submit()</script>`;
  return `<!doctype html><title>totally harmless</title>
    ${form('text/plain', `${target}/api/mint`, 'f1')}
    ${form('application/x-www-form-urlencoded', `${target}/api/mint`, 'f2')}
    ${form('multipart/form-data', `${target}/api/mint`, 'f3')}
    ${form('text/plain', replay, 'f4')}
    <iframe sandbox="allow-scripts allow-forms" srcdoc="${sandboxed.replace(/"/g, '&quot;')}"></iframe>
    <script>
      for (const f of document.forms) f.submit();
      const results = {};
      const attempt = async (name, run) => {
        try { results[name] = await run(); } catch (e) { results[name] = 'refused: ' + e.name; }
      };
      (async () => {
        const post = (url, init) => fetch(url, { method: 'POST', mode: 'no-cors', ...init }).then((r) => r.type);
        await attempt('mint text/plain', () => post('${target}/api/mint', { headers: { 'content-type': 'text/plain' }, body: '{}' }));
        await attempt('mint without a body', () => post('${target}/api/mint', {}));
        await attempt('replay text/plain', () => post('${replay}', { body: '{}' }));
        await attempt('mint as JSON (needs a preflight)', () =>
          fetch('${target}/api/mint', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.text()));
        await attempt('read list', () => fetch('${target}/api/requests').then((r) => r.text()));
        await attempt('read list no-cors', () => fetch('${target}/api/requests', { mode: 'no-cors' }).then((r) => r.text()));
        await attempt('read detail', () => fetch('${target}/api/requests/${requestId}').then((r) => r.text()));
        window.__results = results;
      })();
    </script>`;
}

describe.skipIf(!hasChromium)('hostile pages in a real browser', () => {
  let browser: Browser | undefined;
  let local: LocalApiHarness | undefined;
  let attacker: Server | undefined;

  beforeAll(async () => {
    browser = await launchChromium([
      // DNS rebinding without DNS: the attacker's name resolves to loopback, as it would after rebinding.
      '--host-resolver-rules=MAP attacker.example 127.0.0.1',
    ]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await local?.close();
    await new Promise((resolve) => (attacker ? attacker.close(resolve) : resolve(undefined)));
    attacker = undefined;
  });

  /** Records every request the local API answers, with its status. */
  function watch(api: LocalApiHarness): Seen[] {
    const seen: Seen[] = [];
    api.api.server.on('request', (req, res) =>
      res.on('finish', () =>
        seen.push({ method: req.method!, url: req.url!, status: res.statusCode, origin: req.headers.origin }),
      ),
    );
    return seen;
  }

  it('a page on another origin can neither mint, replay nor read', async () => {
    local = await startLocalApi();
    const seen = watch(local);
    const target = `http://127.0.0.1:${local.port}`;
    const html = attackerPage(target, local.requestId);
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    const attackerPort = await new Promise<number>((resolve) =>
      attacker!.listen(0, '127.0.0.1', () => resolve((attacker!.address() as AddressInfo).port)),
    );
    const before = local.harness.counts();

    const page = await browser!.newPage();
    await page.goto(`http://127.0.0.1:${attackerPort}/`);
    await page.waitForFunction(() => (globalThis as { __results?: unknown }).__results !== undefined);
    const results = (await page.evaluate(() => (globalThis as { __results?: unknown }).__results)) as Record<
      string,
      string
    >;
    // The 4 forms, 4 requests from the sandboxed frame, 3 no-cors writes and 3 reads (the JSON write stops
    // at its preflight): wait, bounded, until the browser has sent them all.
    await waitFor(() => seen.filter((s) => s.method !== 'OPTIONS').length >= 14, 20_000);
    await page.close();

    const posts = seen.filter((s) => s.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(11);
    expect(posts.filter((s) => s.origin === 'null').length).toBeGreaterThanOrEqual(4);
    for (const s of seen) expect([403, 415], `${s.method} ${s.url} from ${s.origin}`).toContain(s.status);
    expect(local.harness.counts()).toEqual(before);
    expect(await local.runState()).toBe('succeeded');
    expect(results['read list']).toMatch(/^refused/);
    expect(results['read detail']).toMatch(/^refused/);
    expect(results['read list no-cors']).toBe('');
    expect(results['mint as JSON (needs a preflight)']).toMatch(/^refused/);
    expect(JSON.stringify(results)).not.toContain(local.requestId);
  });

  it('a DNS-rebinding page (foreign Host) gets neither the page nor any data', async () => {
    local = await startLocalApi();
    const before = local.harness.counts();
    const page = await browser!.newPage();
    for (const path of ['/', '/api/requests', `/api/requests/${local.requestId}`]) {
      const response = await page.goto(`http://attacker.example:${local.port}${path}`);
      expect(response!.status(), path).toBe(403);
      expect(await response!.text()).not.toContain(local.requestId);
    }
    const write = await page.evaluate(async () => {
      const r = await fetch('/api/mint', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return r.status;
    });
    expect(write).toBe(403);
    await page.close();
    expect(local.harness.counts()).toEqual(before);
    expect(local.warnings).toContainEqual(
      expect.objectContaining({ reason: 'foreign-host', refused: `attacker.example:${local.port}` }),
    );
  });

  it('the inspector page itself still lists requests and replays', async () => {
    local = await startLocalApi();
    const seen = watch(local);
    const page = await browser!.newPage();
    await page.goto(`http://127.0.0.1:${local.port}/`);
    await page.click(`tr[data-request-id="${local.requestId}"]`);
    await page.click('#replay');
    await waitFor(async () => (await local!.runState()) === 'pending', 20_000);
    expect(seen.find((s) => s.method === 'POST')).toMatchObject({ status: 202 });
    expect(seen.filter((s) => s.status >= 400 && s.url !== '/favicon.ico')).toEqual([]);
    await page.close();
  });
});
