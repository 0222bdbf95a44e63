import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeOutcome } from '../../src/emulator/job-results.js';
import { JobhookError } from '../../src/errors.js';
import { ASYNC_APIS, type AsyncApiName } from '../../src/ringcentral/apis.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { startLocalApi, type LocalApiHarness } from '../helpers/local-api-harness.js';
import { post, waitFor } from '../helpers/receiver-harness.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';

/**
 * jobhook issue #10 in a real browser: what a new user found wrong on the inspector page, each reproduced on
 * a request made for it (envelopes built here, from the emulator's result builders), against the local API
 * and a real receiver in this process.
 */
const RESULTS = new URL('../../test-results/', import.meta.url).pathname;
warnIfNoChromium('inspector page browser tests');

const ACCEPT_PATH = '/hook';
const DEAD_HANDLER = 'always-fails';

const INPUTS: Record<string, Record<string, unknown>> = {
  speechToText: { contentUri: 'https://example.com/a.wav', encoding: 'Wav', enableSpeakerDiarization: true },
  speakerDiarize: { contentUri: 'https://example.com/b.wav', encoding: 'Wav' },
  speakerIdentify: { contentUri: 'https://example.com/c.wav', encoding: 'Wav', speakerIds: ['alice', 'bob'] },
  analyzeInteraction: { contentUri: 'https://example.com/d.wav', encoding: 'Wav', insights: ['All'] },
  punctuate: { texts: ['hello how are you', 'fine thanks and you'] },
  summarize: {
    summaryType: 'All',
    utterances: [
      { text: 'We need the report by Friday.', speakerId: '0', start: 0, end: 3 },
      { text: 'I will send the billing figures tomorrow.', speakerId: '1', start: 3, end: 6 },
    ],
  },
  recognizeEmotion: { contentUri: 'https://example.com/e.wav', encoding: 'Wav' },
};

/** What each typed view must show: an element only that view renders, with at least `min` of them. */
const VIEW_CHECKS: Record<string, { selector: string; min: number }> = {
  speechToText: { selector: '.transcript .turn', min: 3 },
  speakerDiarize: { selector: 'table.segments tbody tr', min: 3 },
  speakerIdentify: { selector: 'table.segments tbody tr', min: 3 },
  analyzeInteraction: { selector: '.insight li', min: 3 },
  punctuate: { selector: 'ol.texts li', min: 2 },
  summarize: { selector: '.insight li', min: 2 },
  recognizeEmotion: { selector: 'table.emotions tbody tr', min: 2 },
};

function envelope(name: AsyncApiName, jobId: string): Record<string, unknown> {
  const outcome = computeOutcome(name, INPUTS[name]!, {
    seed: 'page-test',
    isEnrolledComplete: () => true,
    durationS: 60,
  });
  return {
    jobId,
    api: ASYNC_APIS[name],
    creationTime: '2026-11-20T10:00:00.000Z',
    completionTime: '2026-11-20T10:00:04.000Z',
    expirationTime: '2026-11-27T10:00:00.000Z',
    ...outcome,
  };
}

describe.skipIf(!hasChromium)('inspector page in a real browser (issue #10)', () => {
  let browser: Browser | undefined;
  let local: LocalApiHarness;
  let base: string;

  /** Mints a request for `api` and posts `body` to it; waits until it settled. */
  async function settled(api: string, body: Record<string, unknown>): Promise<string> {
    const { requestId, callbackUrl } = await local.harness.mint({ kind: 'job', api });
    expect(await post(callbackUrl, JSON.stringify(body))).toBe(200);
    await waitFor(async () => (await local.harness.store.findRequest(requestId))?.state !== 'pending');
    return requestId;
  }

  async function open(hash: string): Promise<Page> {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}/${hash}`);
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  }

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    local = await startLocalApi({ acceptPaths: [ACCEPT_PATH] });
    base = `http://127.0.0.1:${local.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await local.close();
  });

  it('shows no literal "null", a timeline, and rows that are links (keyboard and middle-click)', async () => {
    const noRuns = await settled(ASYNC_APIS.speechToText, sttEnvelope('job-no-runs'));
    const page = await open('');
    const link = `tr[data-request-id="${noRuns}"] a[href="#/requests/${noRuns}"]`;
    await page.waitForSelector(link);
    // One tab stop per row: the request ID's link; the other cells' links are for the mouse.
    expect(await page.locator(`tr[data-request-id="${noRuns}"] a:not([tabindex="-1"])`).count()).toBe(1);

    const context = page.context();
    const [tab] = await Promise.all([
      context.waitForEvent('page', { timeout: 10_000 }),
      page.click(`tr[data-request-id="${noRuns}"] td.id a:not([tabindex])`, { button: 'middle' }),
    ]);
    await tab.waitForLoadState();
    expect(new URL(tab.url()).hash).toBe(`#/requests/${noRuns}`);
    await tab.close();

    await page.focus(`tr[data-request-id="${noRuns}"] td.id a:not([tabindex])`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail-state');
    expect(await page.locator('#detail-state').innerText()).toBe('succeeded');
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/\bnull\b/);
    expect(text).not.toMatch(/\bundefined\b/);
    const events = await Promise.all(
      (await page.locator('ol.timeline li').all()).map((li) => li.getAttribute('data-event')),
    );
    // The harness registered a handler before this request settled: its run was created with the settlement
    // (issue #11), pending until a runner takes it, and the timeline says so.
    expect(events).toEqual(['minted', 'submitted', 'delivery', 'settled', 'run']);

    // The request the harness made has a handler run: its section must not say null either.
    await page.goto(`${base}/#/requests/${local.requestId}`);
    await page.waitForSelector('#replay');
    expect(await page.locator('body').innerText()).not.toMatch(/\bnull\b/);
    await page.screenshot({ path: `${RESULTS}inspector-timeline.png`, fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('offers only the exports a result has: JSON alone for punctuate, all four for a transcript', async () => {
    const punctuate = await settled(ASYNC_APIS.punctuate, envelope('punctuate', 'job-punct'));
    const page = await open(`#/requests/${punctuate}`);
    await page.waitForSelector('#exports');
    const formats = await page.locator('#exports a').allInnerTexts();
    expect(formats).toEqual(['JSON']);
    for (const link of await page.locator('#exports a').all()) {
      const href = await link.getAttribute('href');
      expect((await fetch(`${base}${href!}`)).status).toBe(200);
    }
    const speech = await settled(ASYNC_APIS.speechToText, envelope('speechToText', 'job-stt-exports'));
    await page.goto(`${base}/#/requests/${speech}`);
    await page.waitForSelector('#exports a >> text=SRT');
    expect(await page.locator('#exports a').allInnerTexts()).toEqual(['JSON', 'TXT', 'SRT', 'VTT']);
    await page.close();
  });

  it('renders a typed view of every API result, with the raw JSON one click away', async () => {
    const page = await open('');
    for (const name of Object.keys(INPUTS) as AsyncApiName[]) {
      const requestId = await settled(ASYNC_APIS[name], envelope(name, `job-view-${name}`));
      await page.goto(`${base}/#/requests/${requestId}`);
      const kind = ASYNC_APIS[name].split('/').at(-1)!;
      await page.waitForSelector(`[data-result-view="${kind}"]`);
      const { selector, min } = VIEW_CHECKS[name]!;
      expect(await page.locator(selector).count(), name).toBeGreaterThanOrEqual(min);
      expect(await page.locator('details.raw pre').count(), name).toBe(1);
      await page.screenshot({ path: `${RESULTS}inspector-view-${kind}.png`, fullPage: true });
    }
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('shows one state in list, filter and detail for a dead-lettered request, with its own marker', async () => {
    await local.harness.store.registerHandler(DEAD_HANDLER, null);
    const requestId = await settled(ASYNC_APIS.speechToText, sttEnvelope('job-dead'));
    const claimed = await local.harness.store.claimHandlerRuns(DEAD_HANDLER, 60_000, 10);
    expect(claimed.map((r) => r.requestId)).toContain(requestId);
    await local.harness.store.completeHandlerRun(
      { handler: DEAD_HANDLER, eventKey: `settled:${requestId}` },
      {
        ok: false,
        error: 'target answered 500',
        retryInMs: null,
      },
    );
    const page = await open('');
    const row = `tr[data-request-id="${requestId}"]`;
    await page.waitForSelector(`${row} [data-marker="dead-lettered"]`);
    const listState = await page.locator(`${row} [data-state]`).innerText();
    await page.selectOption('#state', 'dead-lettered');
    await page.waitForSelector(`tr[data-request-id="${local.requestId}"]`, { state: 'detached' });
    expect(await page.locator(row).count()).toBe(1);
    await page.screenshot({ path: `${RESULTS}inspector-dead-lettered-list.png` });
    await page.click(`${row} td.id a`);
    await page.waitForSelector('#detail-state');
    expect(await page.locator('#detail-state').innerText()).toBe(listState);
    expect(listState).toBe('succeeded');
    expect(await page.locator('h2.title [data-marker="dead-lettered"]').count()).toBe(1);
    expect(await page.locator(`[data-handler="${DEAD_HANDLER}"]`).innerText()).toContain('target answered 500');
    await page.close();
  });

  it("shows the server's message when a replay fails", async () => {
    const store = local.harness.store;
    const original = store.retryHandlerRuns.bind(store);
    store.retryHandlerRuns = () =>
      Promise.reject(new JobhookError('JH_ERR_STORE_UNAVAILABLE', 'database is locked by another process (test)'));
    try {
      const page = await open(`#/requests/${local.requestId}`);
      await page.click('#replay');
      await page.waitForSelector('#replay-status.error');
      expect(await page.locator('#replay-status').innerText()).toContain(
        'database is locked by another process (test)',
      );
      await page.screenshot({ path: `${RESULTS}inspector-replay-error.png` });
      await page.close();
    } finally {
      store.retryHandlerRuns = original;
    }
  });

  it('shows a refused submission as rejected with its error, and an interrupted one as unknown', async () => {
    const rejected = await local.harness.mint({ kind: 'job', api: ASYNC_APIS.speechToText });
    const error = 'CAI-101: Parameter [contentUri] is invalid. It should be a valid uri (HTTP 400)';
    await local.harness.store.updateSubmission(rejected.requestId, { state: 'rejected', error });
    const cut = await local.harness.mint({ kind: 'job', api: ASYNC_APIS.speechToText });
    await local.harness.store.updateSubmission(cut.requestId, { state: 'unknown', error: 'socket hang up' });

    const page = await open('');
    await page.waitForSelector(`tr[data-request-id="${rejected.requestId}"] [data-state="rejected"]`);
    expect(await page.locator(`tr[data-request-id="${cut.requestId}"] [data-state]`).innerText()).toBe('unknown');
    await page.selectOption('#state', 'rejected');
    await page.waitForSelector(`tr[data-request-id="${cut.requestId}"]`, { state: 'detached' });
    expect(await page.locator('#requests tbody tr').count()).toBe(1);
    await page.click(`tr[data-request-id="${rejected.requestId}"] td.id a`);
    await page.waitForSelector('#submit-error');
    expect(await page.locator('#detail-state').innerText()).toBe('rejected');
    expect(await page.locator('#submit-error').innerText()).toContain(error);
    expect(await page.locator('[data-event="submitted"]').innerText()).toContain(error);
    await page.screenshot({ path: `${RESULTS}inspector-rejected.png`, fullPage: true });
    await page.close();
  });

  it('lists refused webhook traffic with its reason and a hint', async () => {
    expect(await post(`${local.harness.baseUrl}/webhook`, '{"status":"Success"}')).toBe(404);
    const page = await open('');
    await page.waitForSelector('#refused-count:has-text("1")');
    await page.click('#refused-tab');
    await page.waitForSelector('#refusals tr[data-reason="unknown-path"]');
    const row = await page.locator('#refusals tr[data-reason="unknown-path"]').innerText();
    expect(row).toContain('POST');
    expect(row).toContain('/webhook');
    expect(row).toContain('404');
    expect(row).toContain('--accept');
    await page.screenshot({ path: `${RESULTS}inspector-refused.png` });
    await page.close();
  });

  it('marks deliveries at an --accept path unverified, and links jobs that shared one URL', async () => {
    expect(await post(`${local.harness.baseUrl}${ACCEPT_PATH}`, JSON.stringify(sttEnvelope('job-accepted')))).toBe(200);
    const accepted = await waitFor(async () => {
      const r = await local.harness.store.findRequest('job-accepted');
      return r?.state === 'succeeded' && r;
    });
    expect(accepted.origin).toBe('accepted');
    const parent = await settled(ASYNC_APIS.speechToText, sttEnvelope('job-first'));
    const { callbackUrl } = (await local.harness.store.findRequest(parent))!;
    expect(await post(callbackUrl!, JSON.stringify(sttEnvelope('job-second')))).toBe(200);
    const child = await waitFor(async () => (await local.harness.store.findRequest('job-second'))?.requestId);

    const page = await open('');
    await page.waitForSelector(`tr[data-request-id="${accepted.requestId}"] [data-marker="unverified"]`);
    await page.goto(`${base}/#/requests/${accepted.requestId}`);
    const badge = page.locator('h2.title [data-marker="unverified"]');
    await badge.waitFor();
    expect(await badge.getAttribute('title')).toBe(
      'taken at an --accept path: anyone who knows the URL can post there',
    );
    expect(await page.locator('[data-event="submitted"]').count()).toBe(0);
    await page.screenshot({ path: `${RESULTS}inspector-unverified.png` });

    await page.goto(`${base}/#/requests/${child}`);
    await page.click('#parent');
    await page.waitForSelector('#jobs-on-url li');
    expect(new URL(page.url()).hash).toBe(`#/requests/${parent}`);
    expect(await page.locator('#jobs-on-url li').allInnerTexts()).toEqual([expect.stringContaining('job-second')]);
    await page.close();
  });
});
