import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { sttEnvelope } from '../helpers/fixtures.js';
import { post } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

let server: ServerProcess | undefined;
afterEach(() => {
  server?.child.kill('SIGKILL');
  server = undefined;
});

describe('mint in a second terminal', () => {
  it('mints a URL the running server accepts, whatever its port and prefix', async () => {
    const dbPath = tempDbPath();
    server = await startServer(['--db', dbPath, '--path-prefix', '/hooks']);
    const minted = runCli(['mint', '--db', dbPath, '--json']);
    expect(minted.status).toBe(0);
    const { callbackUrl } = JSON.parse(minted.stdout) as { callbackUrl: string };
    expect(callbackUrl.startsWith(`http://127.0.0.1:${server.receiverPort}/hooks/`)).toBe(true);
    expect(minted.stderr).not.toMatch(/no jobhook serve/);
    expect(await post(callbackUrl, JSON.stringify(sttEnvelope('job-2nd-terminal')))).toBe(200);

    // A second serve that fails to start (its local port is the first's) leaves the recorded URL alone: before,
    // it replaced the running server's with its own dead address (found testing from outside, issue #11).
    const failed = runCli(['serve', '--db', dbPath, '--port', '0', '--local-port', String(server.localPort)]);
    expect(failed.status).toBe(2);
    const again = runCli(['mint', '--db', dbPath, '--json']);
    expect((JSON.parse(again.stdout) as { callbackUrl: string }).callbackUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${server.receiverPort}/hooks/`),
    );

    // A flag still wins over what the server recorded.
    const flagged = runCli(['mint', '--db', dbPath, '--json', '--public-url', 'https://tunnel.example']);
    expect((JSON.parse(flagged.stdout) as { callbackUrl: string }).callbackUrl).toMatch(
      /^https:\/\/tunnel\.example\/hooks\//,
    );
  });

  it('refuses to submit from a new database while a jobhook dev runs elsewhere (its URLs would be refused)', async () => {
    server = await startServer(['--db', tempDbPath(), '--emulator-port', '0'], 'dev');
    const emulatorPort = /emulator\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(server.banner)![1]!;
    const elsewhere = tempDbPath();
    const bodyFile = `${elsewhere}.body.json`;
    writeFileSync(bodyFile, JSON.stringify({ texts: ['hello there'] }));
    const submitted = runCli([
      'submit',
      'punctuate',
      '--body',
      bodyFile,
      '--db',
      elsewhere,
      '--emulator-port',
      emulatorPort,
      '--wait',
      '--timeout',
      '20s',
    ]);
    // Before: it minted URLs with the new database's secret, dev refused them, and the wait ran out.
    expect(submitted.status).toBe(2);
    expect(submitted.stderr).toMatch(/a jobhook dev is running elsewhere/);
  });

  it('warns when no server has recorded a URL in that database', () => {
    const dbPath = tempDbPath();
    const minted = runCli(['mint', '--db', dbPath]);
    expect(minted.status).toBe(0);
    expect(minted.stderr).toMatch(/no jobhook serve has recorded its public URL/);
    expect(minted.stdout).toMatch(/^http:\/\/127\.0\.0\.1:3000\/webhooks\//);
  });
});
