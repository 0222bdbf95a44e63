import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';
import { fakeJwt, startWebhookSink } from '../helpers/webhook-sink.js';

const PROGRAM = fileURLToPath(new URL('../fixtures/guide-program/quick-start.mjs', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('jobhook emulate (process)', () => {
  it('runs a guide-style program unmodified, with only RC_SERVER_URL pointed at it', async () => {
    const emulator = spawn(process.execPath, [CLI, 'emulate', '--port', '0', '--latency', '50ms'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = await startWebhookSink();
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        emulator.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const match = /API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        emulator.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
      });
      const result = await run([PROGRAM], {
        ...process.env,
        RC_SERVER_URL: url,
        RC_APP_CLIENT_ID: 'my-app-client-id',
        RC_APP_CLIENT_SECRET: 'my-app-client-secret',
        RC_USER_JWT: fakeJwt(),
        NGROK_URL: sink.url,
        CONTENT_URI: 'https://example.com/sample-calls.mp3',
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const jobId = /Job ID: (\S+)/.exec(result.stdout)![1]!;
      expect(result.stdout).toMatch(/Status: (InProgress|Success)/);
      await sink.waitFor(1);
      expect(sink.received[0]!.path).toBe('/webhook');
      expect(JSON.parse(sink.received[0]!.body)).toMatchObject({
        jobId,
        api: '/ai/audio/v1/async/speech-to-text',
        status: 'Success',
      });
    } finally {
      emulator.kill('SIGTERM');
      await sink.close();
    }
  });
});
