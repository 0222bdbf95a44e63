import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { ASYNC_APIS } from '../ringcentral/apis.js';
import { clientFor, credentialsFromEnv } from './client.js';
import { createLogger, openRuntime } from './runtime.js';

type Out = NodeJS.WritableStream;

const ENCODING_BY_EXTENSION: Record<string, string> = {
  mp3: 'Mpeg',
  mpeg: 'Mpeg',
  mpga: 'Mpeg',
  mp4: 'Mp4',
  m4a: 'Mp4',
  wav: 'Wav',
  webm: 'Webm',
  aac: 'Aac',
  avi: 'Avi',
  ogg: 'Ogg',
  oga: 'Ogg',
};

/** `speech-to-text`, `speechToText` or the full path → the API path. */
export function resolveApi(name: string): string {
  const paths = Object.values(ASYNC_APIS) as string[];
  if (paths.includes(name)) return name;
  const byName = (ASYNC_APIS as Record<string, string>)[name];
  if (byName) return byName;
  const bySegment = paths.find((p) => p.endsWith(`/${name}`));
  if (bySegment) return bySegment;
  throw new JobhookError(
    'JH_ERR_INVALID_ARGUMENT',
    `unknown API "${name}"; one of ${paths.map((p) => p.split('/').at(-1)).join(', ')}`,
  );
}

function bodyFor(config: Config, apiPath: string): unknown {
  if (config.bodyFile !== null) {
    const text = readFileSync(config.bodyFile === '-' ? 0 : config.bodyFile, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--body is not JSON: ${(error as Error).message}`);
    }
  }
  if (config.contentUri === null || apiPath.startsWith('/ai/text/')) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      'give the job body with --body file.json (or - for stdin), or --content-uri for an audio API',
    );
  }
  const extension = new URL(config.contentUri).pathname.split('.').at(-1)?.toLowerCase() ?? '';
  const body: Record<string, unknown> = {
    contentUri: config.contentUri,
    encoding: ENCODING_BY_EXTENSION[extension] ?? 'Mpeg',
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
  const apiPath = resolveApi(args[0]);
  const body = bodyFor(config, apiPath);
  const { credentials, local } = credentialsFromEnv(config);
  if (local)
    err.write(
      `jobhook: no RC_* credentials; using the local emulator at ${credentials.server} (start it with \`jobhook dev\`)\n`,
    );
  const runtime = await openRuntime(config);
  // At the default level the client's info lines would interleave with the progress line on stderr;
  // an explicit --log-level (debug, warn…) turns the logger on.
  const jobhook = await clientFor(
    runtime,
    config,
    credentials,
    config.logLevel === 'info' ? undefined : createLogger(config),
  );
  try {
    const job = await jobhook.submit(apiPath, body);
    // A 2xx without a readable jobId is still an accepted job: a webhook settles it (see the request's note).
    const summary = `request ${job.requestId}\njobId   ${job.jobId ?? '(none in the answer; a webhook still settles it)'}\n`;
    if (!config.wait) {
      if (config.json)
        out.write(JSON.stringify({ requestId: job.requestId, jobId: job.jobId, api: job.api }, null, 2) + '\n');
      else out.write(summary);
      return 0;
    }
    if (!config.json) out.write(summary);
    const started = Date.now();
    const progress = setInterval(() => {
      void job.record().then((r) => {
        err.write(
          `\rwaiting ${Math.round((Date.now() - started) / 1000)}s: ${r.state}, ${r.deliveryCount} deliveries   `,
        );
      });
    }, 1000);
    try {
      const result = await job.result({ timeoutMs: config.timeoutMs });
      err.write(`\rdone in ${((Date.now() - started) / 1000).toFixed(1)}s${' '.repeat(30)}\n`);
      out.write(
        JSON.stringify(config.json ? { requestId: job.requestId, jobId: job.jobId, result } : result, null, 2) + '\n',
      );
      return 0;
    } finally {
      clearInterval(progress);
    }
  } finally {
    await jobhook.close();
    await runtime.store.close();
  }
}
