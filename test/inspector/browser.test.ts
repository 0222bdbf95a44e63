import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import SrtParser from 'srt-parser-2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { post } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';

const RESULTS = new URL('../../test-results/', import.meta.url).pathname;
warnIfNoChromium('browser tests');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`jobhook ${args.join(' ')} exited ${code}`)),
    );
  });
}

describe.skipIf(!hasChromium)('inspector in a real browser', () => {
  let dev: ServerProcess | undefined;
  let browser: Browser | undefined;
  let dbPath: string;
  let inspector: string;
  let emulator: string;

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    dbPath = tempDbPath();
    dev = await startServer(['--db', dbPath, '--emulator-port', '0', '--latency', '1500ms'], 'dev');
    inspector = /inspector\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(dev.banner)![1]!;
    emulator = /emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(dev.banner)![1]!;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    dev?.child.kill('SIGTERM');
    if (dev) await dev.exited;
  });

  it('shows a submitted job live, turns it succeeded without reload, opens its transcript and downloads SRT', async () => {
    const page = await browser!.newPage({ acceptDownloads: true });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(inspector)) external.push(r.url());
    });
    await page.goto(`${inspector}/`);
    await page.waitForSelector('#live.on');
    const out = await cli(
      [
        'submit',
        'speech-to-text',
        '--content-uri',
        'https://example.com/support.mp3',
        '--json',
        '--db',
        dbPath,
        '--public-url',
        `http://127.0.0.1:${dev!.receiverPort}`,
      ],
      { RC_SERVER_URL: emulator },
    );
    const { requestId } = JSON.parse(out) as { requestId: string };
    const row = `tr[data-request-id="${requestId}"]`;
    await page.waitForSelector(`${row} [data-state="pending"]`, { timeout: 10_000 });
    await page.screenshot({ path: `${RESULTS}inspector-pending.png` });
    await page.waitForSelector(`${row} [data-state="succeeded"]`, { timeout: 15_000 });
    await page.screenshot({ path: `${RESULTS}inspector-list.png` });

    await page.click(row);
    await page.waitForSelector('.transcript .turn');
    expect(await page.locator('.transcript .turn').count()).toBeGreaterThan(3);
    await page.screenshot({ path: `${RESULTS}inspector-detail.png`, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href*="export.srt"]')]);
    await download.saveAs(`${RESULTS}transcript.srt`);
    const cues = new SrtParser().fromSrt(readFileSync(`${RESULTS}transcript.srt`, 'utf8'));
    expect(cues.length).toBeGreaterThan(5);
    expect(external).toEqual([]);
    await page.close();
  });

  it('renders a stored <script> as text, under a strict Content-Security-Policy', async () => {
    const url = (await cli(['mint', '--db', dbPath, '--public-url', `http://127.0.0.1:${dev!.receiverPort}`])).trim();
    const requestId = new URL(url).pathname.split('/')[2]!;
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    const envelope = {
      jobId: 'xss-job',
      api: '/ai/audio/v1/async/speech-to-text',
      status: 'Success',
      response: {
        transcript: evil,
        words: [{ word: evil, start: 0, end: 1 }],
        utterances: [{ speakerId: '0', start: 0, end: 1, text: evil }],
      },
    };
    expect(await post(url, JSON.stringify(envelope))).toBe(200);
    const page = await browser!.newPage();
    const response = await page.goto(`${inspector}/#/r/${requestId}`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.transcript .turn');
    expect(await page.locator('.transcript .turn').first().innerText()).toContain(
      '<script>window.__pwned = 1</script>',
    );
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: `${RESULTS}inspector-escaped.png` });
    await page.close();
  });

  it('serves no inspector route on the public listener', async () => {
    for (const path of ['/', '/app.js', '/app.css', '/api/requests', '/api/events']) {
      const response = await fetch(`http://127.0.0.1:${dev!.receiverPort}${path}`);
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
  });
});
