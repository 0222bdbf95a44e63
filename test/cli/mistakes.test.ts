import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { largeSttEnvelope, sttEnvelope } from '../helpers/fixtures.js';
import { post } from '../helpers/receiver-harness.js';
import { tempDbPath, tempDir } from '../helpers/temp.js';

/** No credentials from the caller's environment: without them, the CLI talks to the local emulator. */
const NO_CREDENTIALS = Object.fromEntries(
  [
    'RC_SERVER_URL',
    'RC_APP_CLIENT_ID',
    'RC_APP_CLIENT_SECRET',
    'RC_USER_JWT',
    'RC_CLIENT_ID',
    'RC_CLIENT_SECRET',
    'RC_JWT',
  ].map((name) => [name, '']),
);

/** Runs the built CLI in `cwd` (a fresh folder: no database, no .env). */
function runIn(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...NO_CREDENTIALS },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The error line: the last on stderr (a notice such as "using the local emulator" may come before it). */
function expectOneLineError(
  result: { status: number | null; stderr: string },
  exitCode: number,
  pattern: RegExp,
): void {
  const lines = result.stderr.trimEnd().split('\n');
  expect(result.stderr, 'no stack frames').not.toMatch(/^\s+at /m);
  expect(lines.at(-1)).toMatch(/^jobhook: [^\n]+; [^\n]+ \[JH_ERR_[A-Z_]+\]$/);
  expect(lines.at(-1)).toMatch(pattern);
  expect(result.status, result.stderr).toBe(exitCode);
}

/** A port that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('common CLI mistakes: one line with the fix, the documented exit code', () => {
  it('bad --body files, URLs, commands, flags and values exit 2 with the fix', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.json'), '{\n  "texts": ["hello"],\n}\n');
    const cases: [string[], RegExp][] = [
      [['submit', 'punctuate', '--body', 'missing.json'], /--body file missing\.json does not exist; give the path/],
      [
        ['submit', 'punctuate', '--body', 'broken.json'],
        /broken\.json is not valid JSON: trailing comma at line 3, column 1;/,
      ],
      [
        ['submit', 'speech-to-text', '--content-uri', 'not-a-url'],
        /--content-uri: "not-a-url" is not valid; expected an http\(s\) URL/,
      ],
      [
        ['submit', 'speech-to-text', '--content-uri', 'ftp://example.com/a.mp3'],
        /--content-uri: .*expected an http\(s\) URL/,
      ],
      [['sumbit', 'punctuate'], /unknown command "sumbit"; did you mean `jobhook submit`\?/],
      [
        ['submit', 'speech-to-text', '--content-url', 'https://example.com/a.mp3'],
        /unknown option --content-url; did you mean --content-uri\?/,
      ],
      [['requests', '--limt', '3'], /unknown option --limt; did you mean --limit\?/],
      [['submit', 'punctuate', '--body'], /--body needs a value; write --body <value>/],
      [['submit', 'punctuate', '--body', '--wait'], /--body needs a value/],
      [['requests', '--json=yes'], /--json takes no value/],
      [['help', 'nope'], /unknown command "nope"/],
    ];
    for (const [args, pattern] of cases) expectOneLineError(runIn(dir, args), 2, pattern);
    // None of these mistakes left a database behind.
    expect(readdirSync(dir).sort()).toEqual(['broken.json']);
  });

  it('read commands in a folder without a database refuse instead of creating one', () => {
    const dir = tempDir();
    for (const args of [
      ['requests'],
      ['show', '0192f3a1'],
      ['export', '0192f3a1'],
      ['retry', '0192f3a1'],
      ['reconcile'],
    ]) {
      expectOneLineError(
        runIn(dir, args),
        2,
        /^jobhook: no jobhook database at \.\/jobhook\.db; pass --db or run from the folder where serve runs/,
      );
    }
    expect(readdirSync(dir)).toEqual([]);
    // Write commands still create it.
    expect(runIn(dir, ['mint']).status).toBe(0);
    expect(readdirSync(dir)).toContain('jobhook.db');
    expect(runIn(dir, ['requests']).status).toBe(0);
  });

  it('submit with no jobhook dev running: exit 6 and asks whether it runs', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const result = runIn(dir, [
      'submit',
      'speech-to-text',
      '--content-uri',
      'https://example.com/call.mp3',
      '--emulator-port',
      String(port),
    ]);
    expectOneLineError(
      result,
      6,
      /ECONNREFUSED.*; is `jobhook dev` running\? start it in another terminal \[JH_ERR_PLATFORM_UNREACHABLE\]/,
    );
  });

  it('a port in use names the flag that chose it', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const db = tempDbPath();
      const quiet = ['--log-level', 'silent', '--db', db];
      const receiver = runCli(['serve', '--port', String(port), '--local-port', '0', ...quiet]);
      expectOneLineError(receiver, 2, new RegExp(`^jobhook: --port ${port} is in use .*; choose another with --port`));
      const local = runCli(['serve', '--port', '0', '--local-port', String(port), ...quiet]);
      expectOneLineError(local, 2, new RegExp(`--local-port ${port} is in use .*; choose another with --local-port`));
      const emulator = runCli(['dev', '--port', '0', '--local-port', '0', '--emulator-port', String(port), ...quiet]);
      expectOneLineError(emulator, 2, new RegExp(`--emulator-port ${port} is in use .*with --emulator-port`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe('waiting on a job', () => {
  it('submit --wait exits 3 when the job fails and 4 when --timeout passes first', async () => {
    const dbPath = tempDbPath();
    const dev = await startServer(
      ['--db', dbPath, '--emulator-port', '0', '--latency', '1500ms', '--fail-rate', '1', '--log-level', 'silent'],
      'dev',
    );
    try {
      const emulatorPort = /emulator\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(dev.banner)![1]!;
      const submit = (...extra: string[]): ReturnType<typeof runIn> =>
        runIn(tempDir(), [
          'submit',
          'speech-to-text',
          '--content-uri',
          'https://example.com/call.mp3',
          '--wait',
          '--db',
          dbPath,
          '--emulator-port',
          emulatorPort,
          '--public-url',
          `http://127.0.0.1:${dev.receiverPort}`,
          ...extra,
        ]);
      expectOneLineError(submit('--timeout', '200ms'), 4, /\[JH_ERR_TIMEOUT\]$/);
      expectOneLineError(submit(), 3, /failed.*\[JH_ERR_JOB_FAILED\]$/);
    } finally {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
  });
});

describe('help', () => {
  it('each command has its own help with its flags and an example; the overview stays short', () => {
    const overview = runCli(['--help']);
    expect(overview.status).toBe(0);
    expect(overview.stdout.split('\n').length).toBeLessThan(40);
    for (const command of ['dev', 'serve', 'submit', 'requests', 'show', 'export', 'retry', 'reconcile', 'mint']) {
      expect(overview.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    const show = runCli(['show', '--help']);
    const exported = runCli(['export', '--help']);
    const submit = runCli(['submit', '--help']);
    for (const help of [show, exported, submit]) {
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^Examples:\n {2}jobhook /m);
    }
    expect(show.stdout).toMatch(/^Usage: jobhook show /);
    expect(exported.stdout).toMatch(/^Usage: jobhook export /);
    expect(exported.stdout).toMatch(/--format <f>.*default json/);
    expect(show.stdout).not.toMatch(/--format/);
    expect(runCli(['help', 'export']).stdout).toBe(exported.stdout);
    for (const api of [
      'speech-to-text',
      'speaker-diarize',
      'speaker-identify',
      'analyze-interaction',
      'punctuate',
      'summarize',
      'recognize-emotion',
    ]) {
      expect(submit.stdout).toMatch(new RegExp(`^ {2}${api} +\\{`, 'm'));
    }
  });
});

describe('ids on the command line', () => {
  let server: ServerProcess;
  let dbPath: string;
  const requestIds: string[] = [];

  beforeAll(async () => {
    dbPath = tempDbPath();
    server = await startServer(['--db', dbPath, '--log-level', 'silent']);
    const publicUrl = `http://127.0.0.1:${server.receiverPort}`;
    const bodies = [
      JSON.stringify(sttEnvelope('job-prefix-alpha-1')),
      largeSttEnvelope('job-prefix-beta-2', 2 * 1024 * 1024),
    ];
    for (const body of bodies) {
      const minted = JSON.parse(runCli(['mint', '--db', dbPath, '--public-url', publicUrl, '--json']).stdout) as {
        requestId: string;
        callbackUrl: string;
      };
      requestIds.push(minted.requestId);
      expect(await post(minted.callbackUrl, body)).toBe(200);
    }
    // The indexer settles both a few milliseconds after the acks.
    for (let i = 0; i < 100; i++) {
      const listed = runCli(['requests', '--db', dbPath, '--state', 'succeeded', '--json']).stdout;
      if ((JSON.parse(listed) as { requests: unknown[] }).requests.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('show/export/retry take a unique prefix of a request ID or jobId; an ambiguous one lists the candidates', () => {
    const [first, second] = requestIds as [string, string];
    const unique = first.slice(0, 30);
    const shown = runCli(['show', unique, '--db', dbPath, '--json']);
    expect(shown.status, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { request: { requestId: string } }).request.requestId).toBe(first);
    expect(runCli(['show', 'job-prefix-al', '--db', dbPath]).stdout).toContain(first);
    expect(runCli(['export', 'job-prefix-al', '--db', dbPath, '--format', 'txt']).status).toBe(0);
    expect(runCli(['retry', second.slice(0, 30), '--db', dbPath]).stdout).toContain(second);

    const ambiguous = runCli(['show', 'job-prefix', '--db', dbPath]);
    expectOneLineError(
      ambiguous,
      2,
      /job-prefix is ambiguous: 2 requests start with it \((?=.*job-prefix-alpha-1)(?=.*job-prefix-beta-2).*\); give more/,
    );
    // UUIDv7s minted in the same moment share their leading (time) characters.
    expectOneLineError(runCli(['show', first.slice(0, 6), '--db', dbPath]), 2, /is ambiguous: 2 requests/);
    expectOneLineError(runCli(['show', 'job-pr', '--db', dbPath]), 2, /is ambiguous/);
    expectOneLineError(
      runCli(['show', 'zzzzzzzz', '--db', dbPath]),
      1,
      /no request with request ID or jobId zzzzzzzz;/,
    );
    expectOneLineError(runCli(['show', 'job', '--db', dbPath]), 1, /a prefix needs at least 6 characters/);
    expectOneLineError(runCli(['show', '--db', dbPath]), 2, /^jobhook: show needs a request ID or jobId .*; usage: /);
    expectOneLineError(
      runCli(['export', first, '--format', 'pdf', '--db', dbPath]),
      2,
      /--format pdf is not a format; use/,
    );
    expectOneLineError(runCli(['requests', '--state', 'done', '--db', dbPath]), 2, /--state done is not a state; use/);
  });

  it('export into a pipe closed early (| head -c 10) exits 0 without a trace', async () => {
    const child = spawn(process.execPath, [CLI, 'export', 'job-prefix-beta-2', '--db', dbPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `head -c 10`: read the first chunk, then close the pipe while 2 MiB are still being written.
    const first = await new Promise<Buffer>((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(first.length).toBeGreaterThanOrEqual(10);
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});

describe('results and answers too big to print whole (tester report)', () => {
  it('export of a result nested 200 000 levels deep: one line, exit 2, no RangeError trace', async () => {
    const dbPath = tempDbPath();
    const server = await startServer(['--db', dbPath, '--log-level', 'silent']);
    try {
      const publicUrl = `http://127.0.0.1:${server.receiverPort}`;
      const minted = JSON.parse(runCli(['mint', '--db', dbPath, '--public-url', publicUrl, '--json']).stdout) as {
        callbackUrl: string;
      };
      const deep = `${'['.repeat(200_000)}0${']'.repeat(200_000)}`;
      const body = `{"jobId":"job-deep-1","status":"Success","response":${deep}}`;
      expect(await post(minted.callbackUrl, body)).toBe(200);
      for (let i = 0; i < 200; i++) {
        const listed = runCli(['requests', '--db', dbPath, '--state', 'succeeded', '--json']).stdout;
        if ((JSON.parse(listed) as { requests: unknown[] }).requests.length === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Before the fix: exit 70 with "RangeError: Maximum call stack size exceeded" and its stack.
      expectOneLineError(
        runCli(['export', 'job-deep-1', '--db', dbPath, '--format', 'json']),
        2,
        /the result cannot be exported as json: .*\[JH_ERR_INVALID_ARGUMENT\]$/,
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('a 300 KB platform error message is cut to 500 characters with its length; .body keeps it whole', async () => {
    const { ApiRejectedError, MAX_API_MESSAGE_CHARS } = await import('../../src/errors.js');
    const message = `${'x'.repeat(299_999)}!`;
    const body = { errors: [{ errorCode: 'CAI-101', message, parameterName: 'texts' }] };
    const error = new ApiRejectedError(400, body);
    // Before the fix the CLI printed all 300 000 characters on stderr.
    expect(error.message.length).toBeLessThan(MAX_API_MESSAGE_CHARS + 100);
    expect(error.message).toMatch(/^the API answered 400 CAI-101: x{500}… \(300000 characters in all\)$/);
    expect(error.body).toBe(body);
    expect(error).toMatchObject({ errorCode: 'CAI-101', parameterName: 'texts' });
    // Short messages are untouched; a cut never splits a surrogate pair.
    expect(new ApiRejectedError(400, { message: 'bad' }).message).toBe('the API answered 400: bad');
    const emoji = new ApiRejectedError(400, { message: `${'x'.repeat(499)}${'😀'.repeat(10)}` }).message;
    expect(emoji).toMatch(/: x{499}… \(519 characters in all\)$/);
  });
});
