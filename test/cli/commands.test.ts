import { describe, expect, it } from 'vitest';
import { sttEnvelope } from '../helpers/fixtures.js';
import { runCli, startServer } from '../helpers/cli-process.js';
import { post } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

describe('jobhook CLI', () => {
  it('mint prints a URL that a running server accepts; show finds the delivery by jobId with its envelope', async () => {
    const dbPath = tempDbPath();
    const server = await startServer(['--db', dbPath]);
    try {
      const publicUrl = `http://127.0.0.1:${server.receiverPort}`;
      const minted = runCli(['mint', '--db', dbPath, '--public-url', publicUrl]);
      expect(minted.status).toBe(0);
      const url = minted.stdout.trim();
      expect(url).toMatch(new RegExp(`^${publicUrl}/webhooks/[0-9a-f-]{36}/[A-Za-z0-9_-]{22}$`));
      const body = JSON.stringify(sttEnvelope('job-cli-1'));
      expect(await post(url, body)).toBe(200);
      expect(await post(url, body)).toBe(200);

      let shown = runCli(['show', 'job-cli-1', '--db', dbPath, '--json']);
      // The indexer settles the request and folds the duplicate a few milliseconds after the acks.
      for (let i = 0; i < 50 && !(shown.stdout.includes('"succeeded"') && shown.stdout.includes('"count": 2')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        shown = runCli(['show', 'job-cli-1', '--db', dbPath, '--json']);
      }
      expect(shown.status).toBe(0);
      const view = JSON.parse(shown.stdout) as {
        request: { state: string; jobId: string; callbackUrl: string };
        deliveries: { count: number; bodyText: string; envelope: { status: string; jobId: string } }[];
      };
      expect(view.request).toMatchObject({ state: 'succeeded', jobId: 'job-cli-1', callbackUrl: url });
      expect(view.deliveries).toHaveLength(1);
      expect(view.deliveries[0]).toMatchObject({
        count: 2,
        bodyText: body,
        envelope: { status: 'Success', jobId: 'job-cli-1' },
      });

      const text = runCli(['show', 'job-cli-1', '--db', dbPath]);
      expect(text.stdout).toMatch(/state\s+succeeded/);
      expect(text.stdout).toMatch(/count=2/);
      expect(text.stdout).toMatch(/envelope: status=Success jobId=job-cli-1/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('requests lists newest first, as a table or JSON, with filters', () => {
    const dbPath = tempDbPath();
    const urls = [1, 2, 3].map(() => runCli(['mint', '--db', dbPath, '--json']));
    const ids = urls.map((u) => (JSON.parse(u.stdout) as { requestId: string }).requestId);
    const listed = runCli(['requests', '--db', dbPath, '--json']);
    expect(
      (JSON.parse(listed.stdout) as { requests: { requestId: string }[] }).requests.map((r) => r.requestId),
    ).toEqual(ids.reverse());
    const table = runCli(['requests', '--db', dbPath, '--state', 'pending', '--limit', '2']);
    expect(table.stdout.split('\n')[0]).toMatch(/^CREATED\s+STATE\s+REQUEST ID/);
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
    expect(runCli(['requests', '--db', dbPath, '--state', 'succeeded']).stdout).toMatch(/no requests/);
  });

  it('explains bad input with a code and a non-zero exit', () => {
    const dbPath = tempDbPath();
    expect(runCli(['mint', '--db', dbPath]).status).toBe(0);
    const unknown = runCli(['show', 'no-such-id', '--db', dbPath]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no request with request ID or jobId no-such-id; .* \[JH_ERR_NOT_FOUND\]/);
    const badFlag = runCli(['serve', '--port', 'eighty']);
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toMatch(/--port: "eighty" is not valid/);
    const unknownFlag = runCli(['mint', '--frobnicate']);
    expect(unknownFlag.status).toBe(2);
    expect(unknownFlag.stderr).toBe(
      'jobhook: unknown option --frobnicate; see jobhook <command> --help [JH_ERR_INVALID_CONFIG]\n',
    );
    expect(runCli(['requests', '--db', dbPath, '--state', 'done']).stderr).toMatch(
      /--state done is not a state; use one of pending, succeeded, failed, expired, rejected, unknown/,
    );
    expect(runCli(['nope']).status).toBe(2);
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: jobhook <command>/);
    // A command's own help, not the overview.
    expect(runCli(['mint', '--help']).stdout).toMatch(/^Usage: jobhook mint/);
  });

  it('rotate-secret keeps URLs minted before it verifiable', async () => {
    const dbPath = tempDbPath();
    const before = runCli(['mint', '--db', dbPath]).stdout.trim();
    expect(runCli(['rotate-secret', '--db', dbPath]).stdout).toMatch(/2 secrets now verify/);
    const server = await startServer(['--db', dbPath]);
    try {
      const port = server.receiverPort;
      const after = runCli(['mint', '--db', dbPath, '--public-url', `http://127.0.0.1:${port}`]).stdout.trim();
      const oldUrl = new URL(before);
      expect(await post(`http://127.0.0.1:${port}${oldUrl.pathname}`, '{"status":"Success"}')).toBe(200);
      expect(await post(after, '{"status":"Success"}')).toBe(200);
      expect(new URL(after).pathname.split('/')[3]).not.toBe(oldUrl.pathname.split('/')[3]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('jobhook show after the server stopped', () => {
  it('folds and parses what the server had not indexed yet', async () => {
    const dbPath = tempDbPath();
    const server = await startServer(['--db', dbPath]);
    const url = runCli([
      'mint',
      '--db',
      dbPath,
      '--public-url',
      `http://127.0.0.1:${server.receiverPort}`,
    ]).stdout.trim();
    const body = JSON.stringify(sttEnvelope('job-kill'));
    expect(await post(url, body)).toBe(200);
    expect(await post(url, body)).toBe(200);
    server.child.kill('SIGKILL'); // possibly before its indexer ran
    await server.exited;
    const view = JSON.parse(runCli(['show', 'job-kill', '--db', dbPath, '--json']).stdout) as {
      request: { state: string };
      deliveries: { count: number; parseState: string }[];
    };
    expect(view.request.state).toBe('succeeded');
    expect(view.deliveries.map((d) => [d.count, d.parseState])).toEqual([[2, 'parsed']]);
  });
});
