import type { Config } from '../config.js';
import { clientFor, credentialsFromEnv } from './client.js';
import { createLogger, openRuntime } from './runtime.js';

/** `jobhook reconcile [--older-than 5m]`: one pass over pending jobs through the status endpoint. */
export async function reconcileCommand(config: Config, out: NodeJS.WritableStream): Promise<void> {
  const { credentials, local } = credentialsFromEnv(config);
  if (local)
    process.stderr.write(
      `jobhook: no RC_* credentials; reading job status from the local emulator at ${credentials.server}\n`,
    );
  const runtime = await openRuntime(config);
  const jobhook = await clientFor(runtime, config, credentials, createLogger(config));
  try {
    const report = await jobhook.reconcile({ olderThanMs: config.olderThanMs });
    if (config.json) out.write(JSON.stringify(report, null, 2) + '\n');
    else {
      out.write(
        `checked ${report.checked}: ${report.settled} settled, ${report.expired} expired, ${report.stillPending} still in progress, ${report.errors} errors\n`,
      );
      if (report.notYetDue > 0) {
        out.write(
          `skipped ${report.notYetDue} pending job${report.notYetDue === 1 ? '' : 's'} not due for a check yet ` +
            `(first look ${Math.round(config.olderThanMs / 1000)} s after submitting; next due ${report.nextDueAt}); ` +
            `use --older-than 0 to check every pending job now\n`,
        );
      }
    }
  } finally {
    await jobhook.close();
    await runtime.store.close();
  }
}
