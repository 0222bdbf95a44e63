import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { ASYNC_APIS, ENCODINGS, encodingForUrl, resolveAsyncApi } from '../ringcentral/apis.js';
import { clientFor, credentialsFromEnv } from './client.js';
import { readJsonBody } from './json-body.js';
import { callbackBaseFor, createLogger, openRuntime } from './runtime.js';
import { waitAndPrint } from './wait.js';

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * `--encoding`, checked against the API's list, or the encoding the media URL's extension names. An
 * extension the API does not take (`.flac`) or none at all is an error asking for `--encoding`: guessing
 * `Mpeg` used to send FLAC as MP3.
 */
export function encodingFor(config: Pick<Config, 'encoding'>, mediaUrl: string): string {
  if (config.encoding !== null) {
    const match = ENCODINGS.find((e) => e.toLowerCase() === config.encoding!.toLowerCase());
    if (!match) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `--encoding ${config.encoding} is not one the API accepts; use one of ${ENCODINGS.join(', ')}`,
      );
    }
    return match;
  }
  const guessed = encodingForUrl(mediaUrl);
  if (guessed) return guessed;
  const file = new URL(mediaUrl).pathname.split('/').at(-1) ?? '';
  const extension = file.includes('.') ? `.${file.split('.').at(-1)}` : 'no extension';
  throw new JobhookError(
    'JH_ERR_INVALID_ARGUMENT',
    `cannot tell the audio encoding of ${mediaUrl} (${extension}); pass --encoding ${ENCODINGS.join('|')} (the API accepts no other format)`,
  );
}

/** A server on this machine: `jobhook dev`/`emulate` (the real platform never is). */
function isLoopbackServer(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function bodyFor(config: Config, apiPath: string): unknown {
  if (config.bodyFile !== null) return readJsonBody(config.bodyFile);
  if (config.contentUri === null || apiPath.startsWith('/ai/text/')) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      'give the job body with --body file.json (or - for stdin), or --content-uri for an audio API',
    );
  }
  const body: Record<string, unknown> = {
    contentUri: config.contentUri,
    encoding: encodingFor(config, config.contentUri),
    languageCode: 'en-US',
  };
  if (apiPath === ASYNC_APIS.speechToText) body.enableSpeakerDiarization = true;
  if (apiPath === ASYNC_APIS.analyzeInteraction) body.insights = ['All'];
  return body;
}

/** `jobhook submit <api>`: submits, prints the request ID and jobId; with --wait, shows progress and the result. */
export async function submitCommand(
  config: Config,
  args: string[],
  out: Out,
  err: Out = process.stderr,
): Promise<number> {
  if (!args[0])
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      'usage: jobhook submit <api> [--content-uri URL | --body file.json|-] [--wait]',
    );
  const { path: apiPath, emulatorFaults } = resolveAsyncApi(args[0]);
  const body = bodyFor(config, apiPath);
  const { credentials, local } = credentialsFromEnv(config);
  if (emulatorFaults !== null && !local && !isLoopbackServer(credentials.server)) {
    // The platform documents no such parameter: faults are the emulator's, and never sent to it.
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `?_emulator= injects faults into the local emulator only, and ${credentials.server} is the configured platform; drop the query`,
    );
  }
  if (local)
    err.write(
      `jobhook: no RC_* credentials; using the local emulator at ${credentials.server} (start it with \`jobhook dev\`)\n`,
    );
  // A new database means a new secret: a `jobhook dev` running from another folder would refuse the URLs
  // minted in it, and `--wait` would sit out its whole timeout (measured). So when this database is new and
  // the local emulator answers (dev runs, elsewhere), say so instead. A named public URL means the user knows.
  if (
    local &&
    !config.explicit.has('public-url') &&
    config.database.kind === 'sqlite' &&
    config.dbPath !== ':memory:' &&
    !existsSync(config.dbPath) &&
    (await answers(credentials.server))
  ) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `no jobhook database at ${config.dbPath}, but a jobhook dev is running elsewhere and would refuse callback URLs ` +
        'minted in a new one; run submit in the folder where dev runs, or pass --db <its database>',
    );
  }
  const logger = createLogger(config);
  const runtime = await openRuntime(config, logger);
  // At the default level the client's info lines would interleave with the progress line on stderr;
  // an explicit --log-level (debug, warn…) turns the logger on.
  const base = await callbackBaseFor(runtime, config, (line) => process.stderr.write(`jobhook: ${line}\n`));
  const jobhook = await clientFor(runtime, config, credentials, config.logLevel === 'info' ? undefined : logger, base);
  try {
    const job = await jobhook.submit(args[0], body);
    // A 2xx without a readable jobId is still an accepted job: a webhook settles it (see the request's note).
    const summary = `request ${job.requestId}\njobId   ${job.jobId ?? '(none in the answer; a webhook still settles it)'}\n`;
    if (!config.wait) {
      if (config.json)
        out.write(JSON.stringify({ requestId: job.requestId, jobId: job.jobId, api: job.api }, null, 2) + '\n');
      else out.write(summary);
      return 0;
    }
    if (!config.json) out.write(summary);
    return await waitAndPrint(config, job, out, err);
  } finally {
    await jobhook.close();
    await runtime.store.close();
  }
}

/** Whether something accepts TCP connections at the server URL's host and port, within half a second. */
function answers(server: string): Promise<boolean> {
  const url = new URL(server);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
