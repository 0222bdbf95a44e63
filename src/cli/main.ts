#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { didYouMean, envFileFrom, parseInvocation } from '../config.js';
import { JobhookError } from '../errors.js';
import {
  exportCommand,
  mintCommand,
  pruneCommand,
  requireDatabase,
  requestsCommand,
  retryCommand,
  rotateSecretCommand,
  showCommand,
} from './commands.js';
import { emulate } from './emulate.js';
import { describeEnvFile, loadEnvFile } from './env-file.js';
import { describeFailure, type FailureContext } from './failure.js';
import { COMMAND_NAMES, commandHelp, HELP } from './help.js';
import { reconcileCommand } from './reconcile-command.js';
import { doctorCommand } from './doctor.js';
import { insightsCommand } from './insights-command.js';
import { subscribeCommand, subscriptionsCommand, unsubscribeCommand } from './subscribe.js';
import { submitCommand } from './submit.js';
import { enrollCommand } from './enroll.js';
import { waitCommand } from './wait.js';
import { serve } from './serve.js';

/** Commands that only read an existing database: run elsewhere, they must not create an empty one. */
const READ_COMMANDS = new Set([
  'requests',
  'show',
  'export',
  'retry',
  'reconcile',
  'wait',
  'prune',
  'subscriptions',
  'unsubscribe',
]);

/** What the error report needs to name the flag or the fix; filled in once the arguments are parsed. */
const failureContext: FailureContext = { command: null, config: null };

function unknownCommand(name: string): JobhookError {
  const guess = didYouMean(name, [...COMMAND_NAMES, 'help']);
  return new JobhookError(
    'JH_ERR_INVALID_ARGUMENT',
    `unknown command "${name}"; ${guess ? `did you mean \`jobhook ${guess}\`? ` : ''}see jobhook --help`,
  );
}

async function main(argv: string[]): Promise<number> {
  // RC_* credentials may live in a .env file, here or up to the project root, as RingCentral's samples keep
  // them (or wherever --env-file says); read first, as it may also set JOBHOOK_* variables.
  const loaded = loadEnvFile(envFileFrom(argv), process.cwd());
  if (loaded) process.stderr.write(describeEnvFile(loaded));
  const invocation = parseInvocation(argv);
  const { args } = invocation;
  let { config } = invocation;
  Object.assign(failureContext, { command: invocation.command, config });
  if (invocation.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  // `jobhook <command> --help` and `jobhook help <command>`: that command's help; bare `--help`: the overview.
  const helpFor = invocation.command === 'help' ? args[0] : invocation.help ? invocation.command : null;
  if (helpFor) {
    const text = commandHelp(helpFor);
    if (!text) throw unknownCommand(helpFor);
    process.stdout.write(text);
    return 0;
  }
  if (invocation.help || invocation.command === null || invocation.command === 'help') {
    process.stdout.write(HELP);
    return invocation.command === null && !invocation.help ? 2 : 0;
  }
  if (READ_COMMANDS.has(invocation.command)) {
    requireDatabase(config);
    config = Object.freeze({ ...config, databaseMustExist: true });
  }
  switch (invocation.command) {
    case 'serve':
      await serve(config);
      return -1; // keeps running until a signal
    case 'dev':
      await serve(config, { withEmulator: true });
      return -1;
    case 'submit':
      return submitCommand(config, args, process.stdout);
    case 'wait':
      return waitCommand(config, args, process.stdout);
    case 'enroll':
      return enrollCommand(config, args, process.stdout);
    case 'reconcile':
      await reconcileCommand(config, process.stdout);
      return 0;
    case 'emulate':
      await emulate(config);
      return -1; // keeps running until a signal
    case 'mint':
      await mintCommand(config, process.stdout);
      return 0;
    case 'requests':
      await requestsCommand(config, process.stdout);
      return 0;
    case 'show':
      await showCommand(config, args, process.stdout);
      return 0;
    case 'export':
      await exportCommand(config, args, process.stdout);
      return 0;
    case 'retry':
      await retryCommand(config, args, process.stdout);
      return 0;
    case 'prune':
      await pruneCommand(config, process.stdout);
      return 0;
    case 'subscribe':
      return subscribeCommand(config, args, process.stdout);
    case 'subscriptions':
      return subscriptionsCommand(config, process.stdout);
    case 'unsubscribe':
      return unsubscribeCommand(config, args, process.stdout);
    case 'insights':
      return insightsCommand(config, args, process.stdout);
    case 'doctor':
      return doctorCommand(config, args, process.stdout);
    case 'rotate-secret':
      await rotateSecretCommand(config, process.stdout);
      return 0;
    default:
      throw unknownCommand(invocation.command);
  }
}

// `jobhook export <id> | head`: the reader closing the pipe early is not a failure, and needs no trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const { line, exitCode } = describeFailure(error, failureContext);
    process.stderr.write(line);
    process.exitCode = exitCode;
    // A server that failed halfway through starting may hold listeners open: do not linger.
    process.exit();
  },
);
