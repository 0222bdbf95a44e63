#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { envFileFrom, parseInvocation } from '../config.js';
import { isJobhookError } from '../errors.js';
import {
  exportCommand,
  mintCommand,
  requestsCommand,
  retryCommand,
  rotateSecretCommand,
  showCommand,
} from './commands.js';
import { emulate } from './emulate.js';
import { describeEnvFile, loadEnvFile } from './env-file.js';
import { HELP } from './help.js';
import { reconcileCommand } from './reconcile-command.js';
import { submitCommand } from './submit.js';
import { enrollCommand } from './enroll.js';
import { waitCommand } from './wait.js';
import { serve } from './serve.js';

async function main(argv: string[]): Promise<number> {
  // RC_* credentials may live in a .env file, here or up to the project root, as RingCentral's samples keep
  // them (or wherever --env-file says); read first, as it may also set JOBHOOK_* variables.
  const loaded = loadEnvFile(envFileFrom(argv), process.cwd());
  if (loaded) process.stderr.write(describeEnvFile(loaded));
  const invocation = parseInvocation(argv);
  const { config, args } = invocation;
  if (invocation.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (invocation.help || invocation.command === null || invocation.command === 'help') {
    process.stdout.write(HELP);
    return invocation.command === null && !invocation.help ? 2 : 0;
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
    case 'rotate-secret':
      await rotateSecretCommand(config, process.stdout);
      return 0;
    default:
      process.stderr.write(`jobhook: unknown command "${invocation.command}"; see jobhook --help\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (isJobhookError(error)) {
      // A message that already names its cause (e.g. `cannot reach … : connect ECONNREFUSED …`) is not repeated.
      const cause =
        error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (${error.cause.message})` : '';
      process.stderr.write(`jobhook: ${error.message}${cause} [${error.code}]\n`);
      process.exitCode = error.code === 'JH_ERR_NOT_FOUND' ? 1 : 2;
    } else {
      process.stderr.write(`jobhook: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 70;
    }
    // A server that failed halfway through starting may hold listeners open: do not linger.
    process.exit();
  },
);
