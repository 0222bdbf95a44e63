import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { CLI, startServer } from '../helpers/cli-process.js';
import { startWebhookSink } from '../helpers/webhook-sink.js';
import { tempDbPath } from '../helpers/temp.js';

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('jobhook dev and submit (processes)', () => {
  it('submits against jobhook dev with no credentials, waits for the result and forwards it signed', async () => {
    const dbPath = tempDbPath();
    const sink = await startWebhookSink();
    sink.answer = (i) => (i === 0 ? 503 : 200);
    const dev = await startServer(
      ['--db', dbPath, '--emulator-port', '0', '--latency', '100ms', '--forward-to', `${sink.url}/forwarded`],
      'dev',
    );
    try {
      const emulator = /emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(dev.banner)![1]!;
      const env = { RC_SERVER_URL: emulator, RC_CLIENT_ID: '', RC_CLIENT_SECRET: '', RC_JWT: '' };
      const common = ['--db', dbPath, '--public-url', `http://127.0.0.1:${dev.receiverPort}`];
      const stt = await run(
        ['submit', 'speech-to-text', '--content-uri', 'https://example.com/a.wav', '--wait', '--json', ...common],
        env,
      );
      expect(stt.code).toBe(0);
      const answer = JSON.parse(stt.stdout) as {
        requestId: string;
        jobId: string;
        result: { transcript: string; utterances: unknown[] };
      };
      expect(answer.result.transcript.length).toBeGreaterThan(20);
      expect(answer.result.utterances.length).toBeGreaterThan(0);
      expect(stt.stderr).toMatch(/using the local emulator/);

      const punctuate = await run(
        ['submit', 'punctuate', '--body', '-', '--wait', ...common],
        env,
        '{"texts":["is this thing on"]}',
      );
      expect(punctuate.code).toBe(0);
      expect(punctuate.stdout).toMatch(/request \S+\njobId\s+\S+\n/);
      expect(JSON.parse(punctuate.stdout.slice(punctuate.stdout.indexOf('{')))).toEqual({
        texts: ['Is this thing on?'],
      });

      const bad = await run(
        ['submit', 'speech-to-text', '--content-uri', 'https://example.com/a.flac', '--body', '-', ...common],
        env,
        '{"contentUri":"x","encoding":"Mpeg"}',
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/CAI-101.*\[JH_ERR_API_REJECTED\]/);

      // Both results were forwarded to the user's server; the first attempt was refused (503) and retried.
      const secret = /Standard Webhooks secret (whsec_\S+)\)/.exec(dev.banner)![1]!;
      await sink.waitFor(3, 15_000);
      const verified = sink.received
        .slice(1)
        .map((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { jobId: string });
      expect(verified.map((v) => v.jobId)).toContain(answer.jobId);
      const retried = await run(['retry', answer.requestId, '--db', dbPath], {});
      expect(retried.stdout).toMatch(/^0 dead-lettered handler run/);
    } finally {
      dev.child.kill('SIGTERM');
      expect(await dev.exited).toBe(0);
      await sink.close();
    }
  });
});
