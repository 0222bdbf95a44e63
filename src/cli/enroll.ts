import type { Config } from '../config.js';
import { ApiRejectedError, JobhookError } from '../errors.js';
import { ENROLLMENTS_PATH } from '../ringcentral/apis.js';
import { createPlatform, type PlatformAnswer } from '../ringcentral/platform.js';
import { credentialsFromEnv } from './client.js';
import { encodingFor } from './submit.js';

type Out = NodeJS.WritableStream;

/** Enrollment audio is a few seconds to minutes of speech; a larger download is a wrong URL. */
const MAX_AUDIO_BYTES = 64 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 60_000;

interface Enrollment {
  enrollmentId?: string;
  speakerId?: string;
  enrollmentComplete?: boolean;
  enrollmentQuality?: string;
  totalSpeechDuration?: number;
}

const USAGE = 'usage: jobhook enroll list | create <speakerId> --content-uri URL [--encoding E] | delete <speakerId>';

function parsed(answer: PlatformAnswer): unknown {
  try {
    return answer.text === '' ? null : (JSON.parse(answer.text) as unknown);
  } catch {
    return answer.text;
  }
}

/** The answer's JSON when 2xx; the platform's refusal as ApiRejectedError otherwise. */
function accepted(answer: PlatformAnswer): unknown {
  if (answer.status >= 200 && answer.status < 300) return parsed(answer);
  throw new ApiRejectedError(answer.status, parsed(answer));
}

/**
 * The enrollment API takes the audio itself (base64 `content`), not a URL the platform fetches as the
 * async jobs do: so the CLI downloads `--content-uri` first, bounded in size and time.
 */
async function download(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `cannot download --content-uri ${url}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (!response.ok) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--content-uri ${url} answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_AUDIO_BYTES) {
    await response.body?.cancel();
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--content-uri ${url} is ${declared} bytes; enrollment audio is at most 64 MiB`,
    );
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_AUDIO_BYTES) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--content-uri ${url} is over 64 MiB; enrollment audio is at most that`,
    );
  }
  return bytes;
}

function formatEnrollment(e: Enrollment): string {
  const id = e.enrollmentId ?? e.speakerId ?? '?';
  const complete = e.enrollmentComplete ? 'complete' : 'incomplete (add more speech)';
  return `${id}  ${complete}  quality ${e.enrollmentQuality ?? '-'}  speech ${e.totalSpeechDuration ?? '-'} s`;
}

/**
 * `jobhook enroll list|create|delete`: speaker enrollments (used by speaker-identify) through the same
 * platform and credentials as `submit`, so against `jobhook dev` without any.
 */
export async function enrollCommand(
  config: Config,
  args: string[],
  out: Out,
  err: Out = process.stderr,
): Promise<number> {
  const [action, speakerId] = args;
  if (action !== 'list' && action !== 'create' && action !== 'delete') {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', USAGE);
  }
  if (action !== 'list' && !speakerId) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', USAGE);
  const { credentials, local } = credentialsFromEnv(config);
  if (local) err.write(`jobhook: no RC_* credentials; using the local emulator at ${credentials.server}\n`);
  const platform = createPlatform(credentials);
  const print = (value: unknown, text: string): void =>
    void out.write(config.json ? JSON.stringify(value, null, 2) + '\n' : text);
  try {
    if (action === 'list') {
      // partial=true: incomplete enrollments too, since those are the ones that need more audio.
      const answer = accepted(await platform.get(`${ENROLLMENTS_PATH}?partial=true&perPage=1000`)) as {
        records?: Enrollment[];
      };
      const records = answer.records ?? [];
      print(answer, records.length === 0 ? 'no enrollments\n' : records.map(formatEnrollment).join('\n') + '\n');
      return 0;
    }
    const path = `${ENROLLMENTS_PATH}/${encodeURIComponent(speakerId!)}`;
    if (action === 'delete') {
      accepted(await platform.delete(path));
      print({ enrollmentId: speakerId, deleted: true }, `deleted ${speakerId}\n`);
      return 0;
    }
    if (config.contentUri === null) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `enroll create needs --content-uri URL of the speaker's audio; ${USAGE}`,
      );
    }
    const encoding = encodingFor(config, config.contentUri);
    const audio = await download(config.contentUri);
    const created = accepted(
      await platform.post(ENROLLMENTS_PATH, {
        enrollmentId: speakerId,
        encoding,
        languageCode: 'en-US',
        content: audio.toString('base64'),
      }),
    ) as Enrollment;
    print(created, `enrolled ${formatEnrollment(created)}\n`);
    return 0;
  } finally {
    await platform.close();
  }
}
