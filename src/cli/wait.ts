import { writeFileSync } from 'node:fs';
import { Job } from '../client/job.js';
import { Waiters } from '../client/waiters.js';
import type { Config } from '../config.js';
import { JobhookError, isJobhookError } from '../errors.js';
import type { RequestRecord } from '../types.js';
import { requireDatabase, requireRequest } from './commands.js';
import { EXIT } from './exit-codes.js';
import { createLogger, openRuntime } from './runtime.js';

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/** Reconciliation's first look at a job without a result (the client's `reconcileAfterMs` default, used by serve/dev). */
export const FIRST_CHECK_AFTER_MS = 5 * 60_000;
/** On a pipe, an unchanged wait is still reported this often, so a log shows the wait is alive. */
const QUIET_LINE_EVERY_MS = 30_000;
/** A result printed on a terminal in full up to this many bytes of JSON; larger ones are summarised. */
const SUMMARY_ABOVE_BYTES = 4096;

const pad2 = (n: number): string => String(n).padStart(2, '0');
const clock = (ms: number): string => {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
};
/** `2m13s`, `45s`, `1h02m`. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad2(Math.floor((s % 3600) / 60))}m`;
}

/**
 * What happens next for a pending request, in words: the webhook it waits for and when reconciliation
 * (run by `jobhook serve`/`dev`) reads the status endpoint: the request's `nextCheckAt`, or its creation
 * plus the first-check delay when it was never checked.
 */
export function nextStep(record: RequestRecord, nowMs: number, firstCheckAfterMs = FIRST_CHECK_AFTER_MS): string {
  const heard = record.deliveryCount === 0 ? 'no webhook yet' : `${record.deliveryCount} deliveries, none final`;
  if (record.jobId === null) return `${heard}; no jobId to read the status with, so only a webhook can settle it`;
  const checked = record.checkCount > 0 ? `status read ${record.checkCount}× (in progress); ` : '';
  const dueMs = record.nextCheckAt ? Date.parse(record.nextCheckAt) : Date.parse(record.createdAt) + firstCheckAfterMs;
  if (dueMs <= nowMs) {
    return `${heard}; ${checked}a status read is due now (by a running serve/dev, or run \`jobhook reconcile\`)`;
  }
  return `${heard}; ${checked}reconciliation reads the status endpoint at ${clock(dueMs)} (in ${formatSpan(dueMs - nowMs)})`;
}

/**
 * Shows the wait on `err`: on a terminal one line redrawn in place every second; elsewhere (a pipe, a log
 * file, CI) a plain line whenever the state, deliveries or next status read change, and every 30 s
 * otherwise, never a `\r`. Returns the function that stops it (and ends a redrawn line).
 */
export function showProgress(job: Job, err: Out, startedMs: number): () => void {
  const tty = err.isTTY === true;
  let lastKey = '';
  let lastLineMs = 0;
  let drawn = false;
  const tick = (): void => {
    void job.record().then(
      (r) => {
        const now = Date.now();
        const text = `${r.state}, ${r.deliveryCount} ${r.deliveryCount === 1 ? 'delivery' : 'deliveries'}; ${r.state === 'pending' ? nextStep(r, now) : 'settled'}`;
        if (tty) {
          err.write(`\r\x1b[Kwaiting ${formatSpan(now - startedMs)}: ${text}`);
          drawn = true;
          return;
        }
        const key = `${r.state}|${r.deliveryCount}|${r.checkCount}|${r.nextCheckAt}`;
        if (key === lastKey && now - lastLineMs < QUIET_LINE_EVERY_MS) return;
        lastKey = key;
        lastLineMs = now;
        err.write(`waiting ${formatSpan(now - startedMs)}: ${text}\n`);
      },
      () => undefined, // a store hiccup costs one progress line, not the wait
    );
  };
  tick();
  const timer = setInterval(tick, 1000);
  return () => {
    clearInterval(timer);
    if (drawn) err.write('\r\x1b[K');
  };
}

/** A few lines about a large result for a person: what it holds and where the whole of it is. */
export function summarizeResult(result: unknown, requestId: string): string {
  const lines: string[] = [];
  const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  if (typeof r.transcript === 'string') {
    const words = r.transcript.split(/\s+/).filter(Boolean);
    lines.push(`transcript (${words.length} words): ${words.slice(0, 40).join(' ')}${words.length > 40 ? ' …' : ''}`);
  }
  const counts = Object.entries(r)
    .filter(([, v]) => Array.isArray(v))
    .map(([k, v]) => `${k}: ${(v as unknown[]).length}`);
  if (counts.length > 0) lines.push(counts.join(', '));
  const speakers = Array.isArray(r.utterances)
    ? new Set((r.utterances as { speakerId?: unknown }[]).map((u) => u.speakerId).filter((s) => s !== undefined))
    : new Set();
  if (speakers.size > 0) lines.push(`speakers: ${speakers.size}`);
  const other = Object.keys(r).filter((k) => k !== 'transcript' && !Array.isArray(r[k]));
  if (other.length > 0) lines.push(`also: ${other.join(', ')}`);
  const bytes = Buffer.byteLength(JSON.stringify(result));
  lines.push(
    `full result (${bytes} bytes): jobhook export ${requestId} [--format txt|srt|vtt], jobhook show ${requestId}, or rerun with --json or --out <file>`,
  );
  return lines.join('\n') + '\n';
}

/** Prints a result as `submit --wait` and `wait` do: `--out` file, `--json`, a summary on a terminal, or JSON. */
export function printResult(
  config: Config,
  job: Job,
  result: unknown,
  out: Out,
  jobId: string | null = job.jobId,
): void {
  const ids = { requestId: job.requestId, jobId };
  if (config.outFile !== null) {
    const text = JSON.stringify(result, null, 2) + '\n';
    writeFileSync(config.outFile, text);
    const bytes = Buffer.byteLength(text);
    out.write(
      config.json
        ? JSON.stringify({ ...ids, out: config.outFile, bytes }, null, 2) + '\n'
        : `result written to ${config.outFile} (${bytes} bytes)\n`,
    );
    return;
  }
  if (config.json) return void out.write(JSON.stringify({ ...ids, result }, null, 2) + '\n');
  const text = JSON.stringify(result, null, 2) + '\n';
  // A pipe gets the whole result (scripts read it); a person gets a summary of a large one.
  out.write(
    out.isTTY === true && Buffer.byteLength(text) > SUMMARY_ABOVE_BYTES ? summarizeResult(result, job.requestId) : text,
  );
}

/**
 * Waits for `job` with progress on `err`, then prints its result. Ctrl-C stops the wait, not the job: it
 * says how to re-attach and returns 130. A timeout, a failed or an expired job throw their JobhookError
 * (exit 4, 3, 5), the timeout with the same re-attach hint.
 */
export async function waitAndPrint(config: Config, job: Job, out: Out, err: Out): Promise<number> {
  const startedMs = Date.now();
  const interrupted = new AbortController();
  const onSigint = (): void => interrupted.abort(new JobhookError('JH_ERR_TIMEOUT', 'interrupted'));
  process.once('SIGINT', onSigint);
  const stopProgress = showProgress(job, err, startedMs);
  const reattach = `re-attach with \`jobhook wait ${job.requestId}\``;
  try {
    const result = await job.result({ timeoutMs: config.timeoutMs, signal: interrupted.signal });
    stopProgress();
    err.write(`done in ${formatSpan(Date.now() - startedMs)}\n`);
    // The jobId may have been learned while waiting (a URL minted before its job was submitted elsewhere).
    const jobId = job.jobId ?? (await job.record().catch(() => null))?.jobId ?? null;
    printResult(config, job, result, out, jobId);
    return EXIT.ok;
  } catch (error) {
    stopProgress();
    if (interrupted.signal.aborted) {
      err.write(`\njobhook: stopped waiting; the job goes on; ${reattach}\n`);
      return EXIT.interrupted;
    }
    if (isJobhookError(error, 'JH_ERR_TIMEOUT')) {
      throw new JobhookError('JH_ERR_TIMEOUT', `${error.message}; ${reattach}`, { cause: error.cause });
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** `jobhook wait <requestId|jobId>`: waits for an earlier request's result (submitted by any process). */
export async function waitCommand(
  config: Config,
  args: string[],
  out: Out,
  err: Out = process.stderr,
): Promise<number> {
  if (!args[0]) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'usage: jobhook wait <requestId|jobId> [--timeout 10m] [--json]');
  }
  requireDatabase(config);
  // No platform is needed: the result arrives in the store, through whichever process receives it.
  const { store } = await openRuntime(config, createLogger(config));
  try {
    const record = await requireRequest(store, args[0]);
    const job = new Job<unknown>(record, store, new Waiters(store));
    if (!config.json && config.outFile === null) out.write(`request ${job.requestId}\njobId   ${job.jobId ?? '-'}\n`);
    return await waitAndPrint(config, job, out, err);
  } finally {
    await store.close();
  }
}
