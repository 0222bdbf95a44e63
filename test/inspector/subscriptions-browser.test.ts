import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../src/inspector/local-api.js';
import { aceEventFilter } from '../../src/ringcentral/ace.js';
import type { SubscriptionInput } from '../../src/types.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { aceFixture } from './ace-fixtures.js';

/**
 * Issue #12 in a real browser: the inspector page shows a kept subscription (state, blacklist reason, a
 * working Re-create button) and ACE insight records that arrived through the real receiver on a minted
 * subscription URL (transcript by speaker with times, scores, raw events, exports), with every stored
 * string inert; and a page on another origin cannot make it re-create anything.
 */
warnIfNoChromium('subscriptions and insights browser tests');

interface Setup {
  harness: Harness;
  api: LocalApi;
  base: string;
  callbackUrl: string;
  token: string;
  recreated: string[];
}

const quiet = (): void => undefined;
const logger = { warn: quiet, error: quiet, info: quiet, debug: quiet } as unknown as Logger;

async function start(): Promise<Setup> {
  const harness = await startHarness(tempDbPath());
  const minted = await harness.mint({ kind: 'subscription' });
  const recreated: string[] = [];
  const api = createLocalApi({
    store: harness.store,
    mint: harness.mint,
    logger,
    recreateSubscription: async (name) => {
      recreated.push(name);
      const kept = (await harness.store.findSubscription(name))!;
      await harness.store.saveSubscription({
        name: kept.name,
        requestId: kept.requestId,
        eventFilters: kept.eventFilters,
        expiresIn: kept.expiresIn,
        platformId: 'sub-2',
        address: kept.address,
        status: 'Active',
        expiresAt: kept.expiresAt,
        disabledFilters: [],
        blacklistedData: null,
        lastError: null,
        checkedAt: null,
      });
    },
  });
  const { port } = await api.listen(0, '127.0.0.1');
  const subscription: SubscriptionInput = {
    name: 'ace-pbx',
    requestId: minted.requestId,
    eventFilters: [aceEventFilter('pbx')],
    expiresIn: 315_360_000,
    platformId: 'sub-1',
    address: minted.callbackUrl,
    status: 'Blacklisted',
    expiresAt: '2036-03-01T00:00:00.000Z',
    disabledFilters: [],
    blacklistedData: { blacklistedAt: '2026-03-02T11:00:00.000Z', reason: 'Webhook responses timed out' },
    lastError: null,
    checkedAt: null,
  };
  await harness.store.saveSubscription(subscription);
  return {
    harness,
    api,
    base: `http://127.0.0.1:${port}`,
    callbackUrl: minted.callbackUrl,
    token: minted.verificationToken,
    recreated,
  };
}

let uuid = 7_000_000;
const envelope = (body: Record<string, unknown>) => ({
  uuid: String(uuid++),
  event: aceEventFilter('pbx', '500000001'),
  timestamp: '2026-03-02T10:12:05.000Z',
  subscriptionId: 'sub-1',
  ownerId: '7000000001',
  body,
});

/** Posts an ACE event to the subscription URL the way the platform does, and waits until it is a record. */
async function deliver(s: Setup, event: Record<string, unknown>): Promise<void> {
  const body = event.body as { domain: string; sourceRecordId: string; lastModifiedTime: string };
  expect(await post(s.callbackUrl, JSON.stringify(event), { 'verification-token': s.token })).toBe(200);
  await waitFor(async () => {
    const record = await s.harness.store.findInsights(body);
    return record?.lastModifiedTime === body.lastModifiedTime;
  }, 10_000);
}

describe.skipIf(!hasChromium)('subscriptions and insight records in a real browser', () => {
  let browser: Browser | undefined;
  let setup: Setup | undefined;
  let attacker: Server | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await setup?.api.close();
    await setup?.harness.close();
    await new Promise((resolve) => (attacker ? attacker.close(resolve) : resolve(undefined)));
    setup = undefined;
    attacker = undefined;
  });

  /** A page that records alert/confirm dialogs and failed requests, so script injection or a broken link shows. */
  async function openPage(path: string): Promise<{ page: Page; dialogs: string[]; failures: string[] }> {
    const page = await browser!.newPage();
    const dialogs: string[] = [];
    const failures: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failures.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${setup!.base}/${path}`);
    return { page, dialogs, failures };
  }

  it('shows the subscription with its blacklist reason and re-creates it through the keeper', async () => {
    setup = await start();
    await deliver(setup, envelope(aceFixture('pbx-record.json')));
    const { page, failures } = await openPage('#/subscriptions');
    const row = page.locator('tr[data-subscription="ace-pbx"]');
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('Blacklisted');
    expect(await row.locator('td.blacklist').textContent()).toMatch(/^Webhook responses timed out \(/);
    expect(await row.textContent()).toContain('/ai/ringsense/v1/public/accounts/~/domains/pbx/insights');
    await row.locator('button.recreate').click();
    await page.locator('tr[data-subscription="ace-pbx"] .recreate-status').waitFor();
    expect(await page.locator('tr[data-subscription="ace-pbx"] .recreate-status').textContent()).toBe(
      're-created: Active',
    );
    expect(await page.locator('tr[data-subscription="ace-pbx"] .badge').textContent()).toBe('Active');
    expect(setup.recreated).toEqual(['ace-pbx']);
    expect(failures).toEqual([]);
    await page.close();
  });

  it('lists insight records and shows one by speaker with times, scores, raw events and exports', async () => {
    setup = await start();
    const event = envelope(aceFixture('pbx-record.json'));
    await deliver(setup, event);
    const { page, failures } = await openPage('#/insights');
    await page.locator('tr[data-record="pbx/3141592653589"]').waitFor();
    await page.click('tr[data-record="pbx/3141592653589"] a.rowlink >> nth=0');
    await page.locator('#transcript').waitFor();
    expect(await page.locator('#insight-title').textContent()).toBe('Call from Ada Quinn to Ben Ortiz');
    const turns = await page.locator('#transcript .turn').allTextContents();
    expect(turns).toEqual([
      '00:01 Ada QuinnMorning Ben, thanks for picking up.',
      '00:05 Ben OrtizSure, is this about the delivery schedule?',
    ]);
    expect(await page.locator('#ai-score').textContent()).toBe('6');
    expect(await page.locator('#sentiment').textContent()).toBe('Neutral');
    expect(await page.locator('#summary').textContent()).toBe('Ada and Ben agreed a new delivery schedule.');
    expect(await page.locator('#highlights').textContent()).toBe('[00:05] Ben Ortiz: Delivery schedule raised.');
    expect(await page.locator('#next-steps').textContent()).toBe(
      '[00:05] Ada Quinn: Send the revised schedule by Friday.',
    );
    expect(await page.locator(`#events tr[data-uuid="${event.uuid}"]`).textContent()).toContain('this version');
    expect(await page.locator('#insight-exports a').allTextContents()).toEqual(['JSON', 'TXT', 'SRT', 'VTT']);
    // The export links download what the API builds.
    const srtHref = await page.locator('#insight-exports a', { hasText: 'SRT' }).getAttribute('href');
    const srt = await page.evaluate(async (href) => (await fetch(href!)).text(), srtHref);
    expect(srt).toMatch(/^1\n00:00:01,500 --> 00:00:04,100\nAda Quinn: Morning Ben/);

    // A newer version (AI Notes then ACE, §11.4) reaches the open page through the live feed.
    const newer = aceFixture('pbx-record.json') as { insights: Record<string, unknown> };
    await deliver(
      setup,
      envelope({
        ...newer,
        lastModifiedTime: '2026-03-02T10:40:00.000Z',
        insights: { ...newer.insights, AIScore: [{ value: '9' }] },
      }),
    );
    await page.locator('#ai-score', { hasText: /^9$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#events tbody tr').count()).toBe(2);
    expect(failures).toEqual([]);
    await page.close();
  });

  it('shows markup in stored insights as text: nothing runs, nothing is built from it', async () => {
    setup = await start();
    await deliver(setup, aceFixture('pbx-hostile-event.json'));
    const { page, dialogs } = await openPage('#/insights/pbx/2718281828459');
    await page.locator('#transcript').waitFor();
    expect(await page.locator('#insight-title').textContent()).toBe(
      'Call from <img src=x onerror=alert(1)> to Ben </script><script>alert(2)</script>',
    );
    expect(await page.locator('#transcript .speaker').first().textContent()).toBe(
      'Eve <b onmouseover=alert(3)>Mallory</b>',
    );
    expect(await page.locator('#ai-score').textContent()).toBe('<b>8</b>');
    expect(await page.locator('pre.other-insight').textContent()).toContain('<iframe src=javascript:alert(5)>');
    await page.locator('#transcript .speaker').first().hover();
    // No element was made from stored strings, and no script ran.
    expect(await page.locator('main img, main script, main iframe, main b, main i, #highlights a').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: boolean }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('a page on another origin cannot make the keeper re-create a subscription', async () => {
    setup = await start();
    const seen: { method: string; status: number }[] = [];
    setup.api.server.on('request', (req, res) =>
      res.on('finish', () => seen.push({ method: req.method!, status: res.statusCode })),
    );
    const target = `${setup.base}/api/subscriptions/ace-pbx/recreate`;
    const html = `<!doctype html><title>harmless</title>
      <iframe name="f1" hidden></iframe>
      <form method="POST" action="${target}" enctype="text/plain" target="f1"><input name='{"a":"' value='"}'></form>
      <script>
        document.forms[0].submit();
        const results = {};
        (async () => {
          const attempt = async (name, run) => {
            try { results[name] = await run(); } catch (e) { results[name] = 'refused: ' + e.name; }
          };
          await attempt('no-cors text/plain', () => fetch('${target}', { method: 'POST', mode: 'no-cors', body: '{}' }).then((r) => r.type));
          await attempt('no-cors json', () => fetch('${target}', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.type));
          await attempt('cors json', () => fetch('${target}', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.text()));
          await attempt('read subscriptions', () => fetch('${setup.base}/api/subscriptions').then((r) => r.text()));
          window.__results = results;
        })();
      </script>`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    const port = await new Promise<number>((resolve) =>
      attacker!.listen(0, '127.0.0.1', () => resolve((attacker!.address() as AddressInfo).port)),
    );
    const page = await browser!.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as { __results?: unknown }).__results !== undefined);
    const results = (await page.evaluate(() => (globalThis as { __results?: unknown }).__results)) as Record<
      string,
      string
    >;
    // The form, two no-cors writes and the read reach the server (the CORS JSON write stops at its preflight).
    await waitFor(() => seen.filter((s) => s.method !== 'OPTIONS').length >= 4, 10_000);
    await page.close();
    expect(setup.recreated).toEqual([]);
    for (const s of seen) expect([403, 415], JSON.stringify(s)).toContain(s.status);
    expect(results['cors json']).toMatch(/^refused/);
    expect(results['read subscriptions']).toMatch(/^refused/);
    expect((await setup.harness.store.findSubscription('ace-pbx'))?.status).toBe('Blacklisted');
  });
});
