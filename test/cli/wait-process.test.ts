import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, mintVia, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; `onStderr` sees stderr as it grows and may act on the child (send it SIGINT, say). */
function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, child);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `seconds` of 8 kHz mono 16-bit silence as a WAV file (the emulator reads its length from the header). */
function wav(seconds: number): Buffer {
  const data = 8000 * 2 * seconds;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data, 40);
  return Buffer.concat([header, Buffer.alloc(data)]);
}

describe('submit --wait, wait, enroll and the dev console (processes against jobhook dev)', () => {
  let dev: ServerProcess;
  let dbPath: string;
  let env: NodeJS.ProcessEnv;
  let common: string[];

  beforeAll(async () => {
    dbPath = join(tempDir(), 'jobhook.db');
    dev = await startServer(
      ['--db', dbPath, '--emulator-port', '0', '--latency', '200ms', '--log-format', 'pretty'],
      'dev',
    );
    const emulator = /emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(dev.banner)![1]!;
    env = { RC_SERVER_URL: emulator };
    for (const name of ['RC_CLIENT_ID', 'RC_CLIENT_SECRET', 'RC_JWT', 'RC_APP_CLIENT_ID', 'RC_APP_CLIENT_SECRET']) {
      env[name] = '';
    }
    env.RC_USER_JWT = '';
    common = ['--db', dbPath, '--public-url', `http://127.0.0.1:${dev.receiverPort}`];
  });
  afterAll(async () => {
    dev.child.kill('SIGTERM');
    await dev.exited;
  });

  it('prints the dev console as readable lines with --log-format pretty', () => {
    // The banner is printed after start-up's first log lines: those are on stderr by now.
    expect(dev.stderr()).toMatch(/^\d\d:\d\d:\d\d (?:info {2}|warn {2})\S/m);
    expect(dev.stderr()).not.toMatch(/^\{"level"/m);
  });

  it('on a pipe: plain progress lines (no \\r) that name the next status read; a timeout exits 4 with a re-attach hint', async () => {
    // _emulator=drop: no webhook will come, only the status endpoint has the result (reached through the path's query).
    const result = await run(
      ['submit', '/ai/text/v1/async/punctuate?_emulator=drop', '--body', join(tempDir(), 'missing.json'), ...common],
      env,
    );
    expect(result.code).toBe(2); // a missing body file is a usage error, before anything is sent
    const body = join(tempDir(), 'body.json');
    await import('node:fs').then((fs) => fs.writeFileSync(body, '{"texts":["hello there"]}'));
    const waited = await run(
      ['submit', '/ai/text/v1/async/punctuate?_emulator=drop', '--body', body, '--wait', '--timeout', '3s', ...common],
      env,
    );
    expect(waited.stderr).not.toContain('\r');
    expect(waited.stderr).toMatch(
      /^waiting \d+s: pending, 0 deliveries; no webhook yet; reconciliation reads the status endpoint at \d\d:\d\d:\d\d \(in [45]m\d\ds\)$/m,
    );
    // Unchanged state is not repeated every second on a pipe.
    expect(waited.stderr.match(/^waiting /gm)!.length).toBe(1);
    expect(waited.stderr).toMatch(/re-attach with `jobhook wait [0-9a-f-]{36}`/);
    expect(waited.code).toBe(4);
  });

  it('wait re-attaches from another process: success (0, --out), failure (3), Ctrl-C (130)', async () => {
    const submit = async (api: string): Promise<string> => {
      const r = await run(['submit', api, '--content-uri', 'https://example.com/call.opus', '--json', ...common], env);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { requestId: string }).requestId;
    };
    const ok = await submit('speech-to-text');
    const out = join(tempDir(), 'result.json');
    const waited = await run(['wait', ok, '--out', out, '--db', dbPath], env);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/result written to .*result\.json \(\d+ bytes\)/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { transcript: string };
    expect(written.transcript.length).toBeGreaterThan(20);
    const json = await run(['wait', ok, '--json', '--db', dbPath], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ requestId: ok, result: { transcript: written.transcript } });

    // Per-job fault through the path's query: the emulator fails the job, wait exits 3.
    const failing = await submit('/ai/audio/v1/async/speech-to-text?_emulator=fail');
    const failed = await run(['wait', failing, '--db', dbPath], env);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/failed.*\[JH_ERR_JOB_FAILED\]/);

    const dropped = await submit('/ai/audio/v1/async/speech-to-text?_emulator=drop');
    let sent = false;
    const interrupted = await run(['wait', dropped, '--db', dbPath], env, (text, child) => {
      if (!sent && /^waiting /m.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain(`the job goes on; re-attach with \`jobhook wait ${dropped}\``);
  });

  it("prints a try: line that works for this dev's emulator port and database (found testing from outside)", () => {
    const line = dev.banner.split('\n').find((l) => l.startsWith('try: '))!;
    const emulatorPort = /emulator\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(dev.banner)![1]!;
    expect(line).toContain(`--emulator-port ${emulatorPort}`);
    expect(line).toContain(`--db '${dbPath}'`);
  });

  it('wait --json names the jobId it learned while waiting (a URL minted before its job existed)', async () => {
    // Found by the fleet checks (issue #11): the printed jobId was the one known when the wait began, null.
    const { requestId, callbackUrl } = await mintVia(dev.localPort);
    const waiting = run(['wait', requestId, '--json', '--timeout', '20s', ...common], env);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const envelope = {
      jobId: 'job-learned-late',
      api: '/ai/text/v1/async/punctuate',
      creationTime: new Date().toISOString(),
      status: 'Success',
      response: { texts: ['Learned late.'] },
    };
    const posted = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope),
    });
    expect(posted.status).toBe(200);
    const { code, stdout } = await waiting;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ requestId, jobId: 'job-learned-late', result: envelope.response });
  });

  it('refuses an extension the API does not take, asking for --encoding, and takes --encoding', async () => {
    const flac = await run(
      ['submit', 'speechToText', '--content-uri', 'https://example.com/call.flac', ...common],
      env,
    );
    expect(flac.code).toBe(2);
    expect(flac.stderr).toMatch(/cannot tell the audio encoding of .*call\.flac \(\.flac\); pass --encoding/);
    const given = await run(
      ['submit', 'speechToText', '--content-uri', 'https://example.com/call.flac', '--encoding', 'wav', ...common],
      env,
    );
    expect(given.code).toBe(0);
  });

  it('enroll create, list and delete against jobhook dev', async () => {
    const audio = wav(20);
    const media = createServer((_req, res) => res.end(audio));
    await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(media.address() as AddressInfo).port}/alice.wav`;
    try {
      const created = await run(['enroll', 'create', 'alice', '--content-uri', url], env);
      expect(created.stderr).not.toMatch(/^\s+at /m);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/enrolled alice {2}complete {2}quality \w+ {2}speech 16 s/);
      const listed = await run(['enroll', 'list', '--json'], env);
      expect(JSON.parse(listed.stdout)).toMatchObject({
        records: [{ enrollmentId: 'alice', enrollmentComplete: true }],
      });
      expect((await run(['enroll', 'delete', 'alice'], env)).stdout).toBe('deleted alice\n');
      expect((await run(['enroll', 'list'], env)).stdout).toBe('no enrollments\n');
      const again = await run(['enroll', 'delete', 'alice'], env);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/410 CAI-107/);
    } finally {
      media.close();
    }
  });
});
