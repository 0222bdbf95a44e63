import type { Config } from '../config.js';
import { isJobhookError, type JobhookError } from '../errors.js';
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
  return `${error.message}${cause}`;
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
