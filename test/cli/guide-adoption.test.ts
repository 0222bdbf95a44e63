import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOn } from '../../src/http-listen.js';
import { CLI } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * Issue #10: a developer who starts from RingCentral's AI samples adopts jobhook unchanged. Their `.env`
 * (the guide's `code-samples/env-template` names) sits one folder above the program, their program passes
 * `${NGROK_URL}/webhook` as the callback, and their webhook server is a plain node:http one.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/guide-program/', import.meta.url));
const CLIENT_ID = 'guide-app-client-id';
const CLIENT_SECRET = 'guide-app-client-secret-value';

/** The test process's environment without anything the guide's `.env` would set, so the file decides. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(RC_|JOBHOOK_|NGROK_)|^CONTENT_URI$/.test(k)),
  );
  return { ...env, ...extra };
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` on stdout (rejects if the process exits or 20 s pass). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(
    running.splice(0).map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
});

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const handle: Running = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(stdout);
          if (match) {
            cleanup();
            resolve(match);
          }
          return match !== null;
        };
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`${args.join(' ')} exited (${code}) before ${pattern}:\n${stdout}\n${stderr}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within 20 s:\n${stdout}\n${stderr}`));
        }, 20_000);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('exit', onExit);
        };
        if (check()) return;
        child.stdout.on('data', check);
        child.once('exit', onExit);
      }),
  };
  running.push(handle);
  return handle;
}

/** Runs a command to completion (asynchronously: a recorder in this process must keep answering). */
function run(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The guide's layout: `project/` (package.json, .env) with the program run from `project/app/`. */
function guideProject(envLines: string[]): { project: string; app: string; envFile: string } {
  const project = join(tempDir(), 'project');
  const app = join(project, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-ai-app', type: 'module' }));
  const envFile = join(project, '.env');
  writeFileSync(envFile, envLines.join('\n') + '\n');
  return { project, app, envFile };
}

/**
 * Stands in for a remote platform: records every request. It listens on loopback but is addressed as
 * `[::ffff:127.0.0.1]`, which is not how a local emulator is addressed, so jobhook treats it as remote —
 * as it would https://platform.ringcentral.com — while nothing leaves the machine.
 */
async function startRecorder(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(503).end();
  });
  const { port } = await listenOn(server, 0, '127.0.0.1');
  return {
    url: `http://[::ffff:127.0.0.1]:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Standard Webhooks: HMAC-SHA256 of `${id}.${timestamp}.${body}` with the base64 key after `whsec_`. */
function verifiesStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`)
    .digest('base64');
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

describe("the developer guide's program, .env and webhook server, unchanged (issue #10)", () => {
  it('runs end to end: the result is stored, show finds it, the sample server gets it signed, reconciliation is on', async () => {
    // The emulator checks the client id and secret at login, so a successful login proves the guide's
    // names (RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET) reached it, not jobhook's made-up development ones.
    const emulator = start(
      [CLI, 'emulate', '--port', '0', '--latency', '200ms', '--strict-client'],
      tempDir(),
      cleanEnv({ RC_APP_CLIENT_ID: CLIENT_ID, RC_APP_CLIENT_SECRET: CLIENT_SECRET }),
    );
    const emulatorUrl = (await emulator.waitFor(/API\s+(http:\/\/127\.0\.0\.1:\d+)/))[1]!;

    const recordFile = join(tempDir(), 'received.jsonl');
    const sample = start([join(FIXTURES, 'server.mjs')], tempDir(), cleanEnv({ PORT: '0', RECORD_FILE: recordFile }));
    const samplePort = (await sample.waitFor(/listening on port (\d+)/))[1]!;

    const { app, envFile } = guideProject([
      '# code-samples/env-template',
      `RC_SERVER_URL=${emulatorUrl}`,
      `RC_APP_CLIENT_ID=${CLIENT_ID}`,
      `RC_APP_CLIENT_SECRET=${CLIENT_SECRET}`,
      `RC_USER_JWT=${fakeJwt('guide-user')}`,
      'CONTENT_URI=https://example.com/guide/call.mp3',
    ]);
    const serve = start(
      [
        CLI,
        'serve',
        '--port',
        '0',
        '--local-port',
        '0',
        '--accept',
        '/webhook',
        '--forward-to',
        `http://127.0.0.1:${samplePort}/webhook`,
      ],
      app,
      cleanEnv(),
    );
    const banner = await serve.waitFor(/receiver\s+(http:\/\/127\.0\.0\.1:(\d+))[\s\S]*database/);
    const ngrokUrl = banner[1]!;
    expect(serve.stdout()).toContain(
      `accepting  ${ngrokUrl}/webhook (unverified: anyone who learns this URL can post results there)`,
    );
    const forwardSecret = /Standard Webhooks secret (whsec_\S+)\)/.exec(serve.stdout())![1]!;
    // The user pastes the tunnel's URL into .env once it runs; here serve's own address plays the tunnel.
    appendFileSync(envFile, `NGROK_URL=${ngrokUrl}\n`);

    // The guide's program, run the guide's way: from app/, with the .env one folder up.
    const program = await run(['--env-file=../.env', join(FIXTURES, 'quick-start.mjs')], app, cleanEnv());
    expect(program.stderr).toBe('');
    expect(program.status).toBe(0);
    const jobId = /Job ID: (\S+)/.exec(program.stdout)![1]!;

    // The forward arrives once the emulator's webhook was received, stored and indexed (bounded wait).
    let received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
    for (let i = 0; i < 200 && received.length === 0; i++) {
      if (existsSync(recordFile)) {
        received = readFileSync(recordFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as (typeof received)[number]);
      }
      if (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(received.length, `no forward reached the sample server:\n${serve.stderr()}`).toBeGreaterThan(0);

    const show = await run([CLI, 'show', jobId, '--json'], app, cleanEnv());
    expect(show.status, show.stderr).toBe(0);
    const view = JSON.parse(show.stdout) as {
      request: { jobId: string; state: string };
      deliveries: { bodyText: string | null }[];
    };
    expect(view.request).toMatchObject({ jobId, state: 'succeeded' });
    const stored = view.deliveries[0]!.bodyText!;
    expect(JSON.parse(stored)).toMatchObject({ jobId, status: 'Success' });
    const text = await run([CLI, 'show', jobId], app, cleanEnv());
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(jobId);

    const forwarded = received[0]!;
    expect(forwarded.body).toBe(stored);
    expect(verifiesStandardWebhook(forwardSecret, forwarded.headers, forwarded.body)).toBe(true);
    expect(sample.stdout()).toContain(jobId);

    expect(serve.stderr()).toContain('jobhook: using credentials and settings from ../.env');
    expect(serve.stderr()).toMatch(/reconciliation is on/);
    expect(serve.stderr()).not.toMatch(/reconciliation is off/);
    // Names only: no value from the file reaches the log.
    expect(serve.stderr() + serve.stdout()).not.toContain(CLIENT_SECRET);
  }, 90_000);

  it('refuses to send made-up credentials to a remote RC_SERVER_URL: exit 2 naming the variables, no request', async () => {
    const { app } = guideProject(['RC_SERVER_URL=https://platform.ringcentral.com', 'NGROK_URL=https://abc.ngrok.app']);
    const submit = [CLI, 'submit', 'speech-to-text', '--content-uri', 'https://example.com/call.mp3'];
    const real = await run(submit, app, cleanEnv());
    expect(real.status).toBe(2);
    expect(real.stderr).toMatch(
      /RC_SERVER_URL is https:\/\/platform\.ringcentral\.com\S* but RC_APP_CLIENT_ID \(or RC_CLIENT_ID\), RC_APP_CLIENT_SECRET \(or RC_CLIENT_SECRET\), RC_USER_JWT \(or RC_JWT\) are not set.*\[JH_ERR_INVALID_CONFIG\]/,
    );
    expect(real.stderr).not.toMatch(/using the local emulator/);

    // The same with a recorder in the platform's place: nothing at all is sent to it.
    const recorder = await startRecorder();
    try {
      const { app: app2 } = guideProject([`RC_SERVER_URL=${recorder.url}`]);
      const result = await run(submit, app2, cleanEnv());
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/RC_APP_CLIENT_ID \(or RC_CLIENT_ID\).*are not set/);
      expect(recorder.requests).toEqual([]);
    } finally {
      await recorder.close();
    }
  }, 60_000);

  it('names the missing variables of a partial set and refuses a malformed JWT, before any network call', async () => {
    const recorder = await startRecorder();
    try {
      const submit = [CLI, 'submit', 'speech-to-text', '--content-uri', 'https://example.com/call.mp3'];
      const partial = guideProject([`RC_SERVER_URL=${recorder.url}`, `RC_APP_CLIENT_ID=${CLIENT_ID}`]);
      const result = await run(submit, partial.app, cleanEnv());
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(
        /credentials are incomplete: RC_APP_CLIENT_SECRET \(or RC_CLIENT_SECRET\), RC_USER_JWT \(or RC_JWT\) not set .*\[JH_ERR_INVALID_CONFIG\]/,
      );

      // Aliases count: RC_CLIENT_ID alone is as partial as RC_APP_CLIENT_ID alone; with the emulator's
      // usual address too, it must not fall back to the emulator.
      const alias = guideProject(['RC_CLIENT_ID=old-name-client']);
      const aliased = await run(submit, alias.app, cleanEnv());
      expect(aliased.status).toBe(2);
      expect(aliased.stderr).toMatch(/RC_SERVER_URL, RC_APP_CLIENT_SECRET \(or RC_CLIENT_SECRET\)/);
      expect(aliased.stderr).not.toMatch(/using the local emulator/);

      const badJwt = guideProject([
        `RC_SERVER_URL=${recorder.url}`,
        `RC_APP_CLIENT_ID=${CLIENT_ID}`,
        `RC_APP_CLIENT_SECRET=${CLIENT_SECRET}`,
        'RC_USER_JWT=paste-your-jwt-here',
      ]);
      const malformed = await run(submit, badJwt.app, cleanEnv());
      expect(malformed.status).toBe(2);
      const lines = malformed.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^jobhook: RC_USER_JWT is not a JWT: .*\[JH_ERR_INVALID_CONFIG\]$/);
      expect(malformed.stderr).not.toMatch(/\n\s+at /);
      expect(malformed.stderr).not.toContain('paste-your-jwt-here');

      const serve = await run([CLI, 'serve', '--port', '0', '--local-port', '0'], partial.app, cleanEnv());
      expect(serve.status).toBe(2);
      expect(serve.stderr).toMatch(/credentials are incomplete/);
      expect(recorder.requests).toEqual([]);
    } finally {
      await recorder.close();
    }
  }, 60_000);

  it('--env-file and JOBHOOK_ENV_FILE load the named file, say which, and let the environment win', async () => {
    const recorder = await startRecorder();
    try {
      const dir = tempDir();
      mkdirSync(join(dir, 'secrets'));
      mkdirSync(join(dir, 'work'));
      writeFileSync(join(dir, 'work', 'package.json'), '{}');
      writeFileSync(join(dir, 'secrets', 'rc.env'), `RC_SERVER_URL=${recorder.url}\nRC_APP_CLIENT_ID=${CLIENT_ID}\n`);
      const submit = [CLI, 'submit', 'speech-to-text', '--content-uri', 'https://example.com/call.mp3'];
      const work = join(dir, 'work');

      const byFlag = await run([...submit, '--env-file', '../secrets/rc.env'], work, cleanEnv());
      // The file and the names it set (in any order), never their values.
      const line = /^jobhook: using credentials and settings from \.\.\/secrets\/rc\.env \((.*)\)$/m.exec(
        byFlag.stderr,
      );
      expect(line?.[1]?.split(', ').sort()).toEqual(['RC_APP_CLIENT_ID', 'RC_SERVER_URL']);
      expect(byFlag.stderr).toMatch(/credentials are incomplete/); // the file's variables were read
      expect(byFlag.status).toBe(2);

      const byEnv = await run(submit, work, cleanEnv({ JOBHOOK_ENV_FILE: '../secrets/rc.env' }));
      expect(byEnv.stderr).toContain('from ../secrets/rc.env');

      // A variable already set wins over the file: here an empty RC_APP_CLIENT_ID switches the file's off.
      const kept = await run([...submit, '--env-file', '../secrets/rc.env'], work, cleanEnv({ RC_APP_CLIENT_ID: '' }));
      expect(kept.stderr).toContain('(RC_SERVER_URL; already set, kept: RC_APP_CLIENT_ID)');
      expect(kept.stderr).toMatch(/RC_SERVER_URL is \S+ but RC_APP_CLIENT_ID/);

      // A missing explicit file is an error. Through the variable jobhook reports it; through the flag Node
      // itself does first (it scans script arguments for --env-file: nodejs/node#54232) — exit 9, naming it.
      const missing = await run(submit, work, cleanEnv({ JOBHOOK_ENV_FILE: '../secrets/none.env' }));
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(
        /--env-file \.\.\/secrets\/none\.env: cannot read it \(ENOENT\).*JH_ERR_INVALID_CONFIG/,
      );
      const missingFlag = await run([...submit, '--env-file', '../secrets/none.env'], work, cleanEnv());
      expect(missingFlag.status).not.toBe(0);
      expect(missingFlag.stderr).toContain('../secrets/none.env');
      expect(recorder.requests).toEqual([]);

      // Discovery stops at the project root: a .env above `work/` (which has a package.json) is not read.
      writeFileSync(join(dir, '.env'), `RC_SERVER_URL=${recorder.url}\n`);
      const above = await run([CLI, 'mint', '--db', join(dir, 'jobhook.db')], work, cleanEnv());
      expect(above.status).toBe(0);
      expect(above.stderr).not.toMatch(/using credentials/);
    } finally {
      await recorder.close();
    }
  }, 60_000);
});
