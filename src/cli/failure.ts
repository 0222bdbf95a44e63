import type { Config } from '../config.js';
import { isJobhookError, type JobhookError, type JobhookErrorCode } from '../errors.js';
import { resolveCredentials } from './client.js';
import { EXIT, exitCodeFor, type ExitCode } from './exit-codes.js';

/** What the CLI knows when a command fails; null fields when it failed before the arguments were parsed. */
export interface FailureContext {
  command: string | null;
  config: Config | null;
}

/** Commands that talk to the platform (or to the `jobhook dev` emulator standing in for it). */
const PLATFORM_COMMANDS = new Set(['submit', 'reconcile', 'wait', 'enroll']);

/**
 * The fix for a message that does not say one itself (library messages say what happened; the CLI adds what
 * to do next, as docs/errors.md's last column does).
 */
const FIXES: Partial<Record<JobhookErrorCode, string>> = {
  JH_ERR_JOB_FAILED: "the platform's answer is in `jobhook show <requestId>`",
  JH_ERR_JOB_EXPIRED: 'submit again if the result is still needed',
  JH_ERR_TIMEOUT: 'the job goes on: wait again, or let reconciliation settle it',
  JH_ERR_API_REJECTED: 'fix the request (`jobhook submit --help` shows a body for each API)',
  JH_ERR_SUBMIT_FAILED: 'submit again when the API is back',
  JH_ERR_PLATFORM_UNREACHABLE: 'check RC_SERVER_URL and the network',
  JH_ERR_STORE_UNAVAILABLE:
    'check --db: for SQLite free the disk or the lock; for PostgreSQL check that it runs and accepts connections',
  JH_ERR_STORE_CONFLICT: 'nothing was written; read what is stored (jobhook show) and try again',
  JH_ERR_STORE_CLOSED: 'a shutdown is in progress; run the command again',
  JH_ERR_MIGRATION_FAILED: 'the database is left as it was; see the cause',
};

/**
 * The one stderr line and the exit code for a failed command: `jobhook: <what is wrong>; <the fix> [code]`.
 * Expected failures (every JobhookError) get no stack trace; anything else is a bug and keeps it (exit 70).
 */
export function describeFailure(error: unknown, context: FailureContext): { line: string; exitCode: ExitCode } {
  if (!isJobhookError(error)) {
    return { line: `jobhook: unexpected error: ${(error as Error).stack ?? String(error)}\n`, exitCode: EXIT.bug };
  }
  const message = portInUse(error, context) ?? unreachableEmulator(error, context) ?? withCause(error);
  return { line: `jobhook: ${oneLine(message)} [${error.code}]\n`, exitCode: exitCodeFor(error) };
}

/** Store and platform failures say more in their cause (`SQLITE_FULL`, `ECONNRESET`); usage errors do not. */
function withCause(error: JobhookError): string {
  const usage = error.code === 'JH_ERR_INVALID_CONFIG' || error.code === 'JH_ERR_INVALID_ARGUMENT';
  // A message that already names its cause (e.g. `cannot reach … : connect ECONNREFUSED …`) is not repeated.
  const cause =
    !usage && error.cause instanceof Error && !error.message.includes(error.cause.message)
      ? ` (${error.cause.message})`
      : '';
  const fix = error.message.includes('; ') ? undefined : (credentialFix(error) ?? FIXES[error.code]);
  return `${error.message}${cause}${fix ? `; ${fix}` : ''}`;
}

/** A listener's port is taken: name the flag that chose it, so the fix is one flag away. */
function portInUse(error: JobhookError, { command, config }: FailureContext): string | undefined {
  const cause = error.cause as (NodeJS.ErrnoException & { port?: number }) | undefined;
  if (cause?.code !== 'EADDRINUSE' || !config) return undefined;
  const port = cause.port;
  // In the order `dev` binds them: the emulator first, then the receiver, then the local API.
  const candidates: [string, number][] =
    command === 'emulate'
      ? [['--port', config.port]]
      : [
          ...(command === 'dev' ? [['--emulator-port', config.emulatorPort] as [string, number]] : []),
          ['--port', config.port],
          ['--local-port', config.localPort],
        ];
  const flag = candidates.find(([, value]) => value === port)?.[0];
  if (!flag) return undefined;
  return `${flag} ${port} is in use (another jobhook?); choose another with ${flag}, or stop what holds it`;
}

/** Connection refused by the local emulator: almost always `jobhook dev` not started yet. */
function unreachableEmulator(error: JobhookError, { command, config }: FailureContext): string | undefined {
  const unreachable = error.code === 'JH_ERR_PLATFORM_UNREACHABLE' || error.code === 'JH_ERR_SUBMIT_FAILED';
  if (!unreachable || !config || !PLATFORM_COMMANDS.has(command ?? '')) return undefined;
  let local: boolean;
  try {
    local = resolveCredentials(config).kind === 'emulator';
  } catch {
    local = false;
  }
  if (!local) return undefined;
  return `${error.message}; is \`jobhook dev\` running? start it in another terminal`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * A refusal of the credentials or of the app's permissions is not fixed by changing the request body: an
 * OAuth error (`OAU-…`, at login) or a 401/403 points at RC_USER_JWT and the app instead.
 */
function credentialFix(error: JobhookError): string | undefined {
  if (error.code !== 'JH_ERR_API_REJECTED') return undefined;
  const { status, errorCode } = error as JobhookError & { status?: number; errorCode?: string | null };
  if (errorCode?.startsWith('OAU-') || status === 401) {
    return 'check RC_USER_JWT (and RC_APP_CLIENT_ID/RC_APP_CLIENT_SECRET) for this RC_SERVER_URL';
  }
  if (status === 403) return "the app lacks a permission the API needs (e.g. AI): add it to the app's settings";
  return undefined;
}
