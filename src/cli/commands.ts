import { resolveAsyncApi } from '../ringcentral/apis.js';
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { EXPORT_FORMATS, exportResult, type ExportFormat } from '../inspector/exports.js';
import { exportInsights } from '../inspector/insights-exports.js';
import { toDeliveryView } from '../inspector/request-view.js';
import { readInsights } from '../client/insights-waiter.js';
import { ACE_DOMAINS, isAceDomain } from '../ringcentral/ace.js';
import { generateSecret } from '../callback/callback-url.js';
import { deliveryRules } from '../ringcentral/delivery-rules.js';
import { readOutcome } from '../store/outcome.js';
import type { Store } from '../store/store.js';
import { DISPLAY_STATES, isDisplayState, type DisplayState } from '../store/display-state.js';
import type { RequestRecord } from '../types.js';
import { formatRequestDetail, formatRequestTable } from './format.js';
import { callbackBaseFor, minterFor, openRuntime, type Runtime } from './runtime.js';

type Out = NodeJS.WritableStream;

async function withRuntime<T>(config: Config, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config);
  try {
    // Index what a stopped (or busy) server has not yet: the commands then show folded duplicates and
    // parsed envelopes whatever the server's state. Idempotent, and cheap when nothing is pending.
    for (let pass; !pass || pass.examined > 0;) pass = await runtime.store.indexDeliveries(deliveryRules);
    return await fn(runtime);
  } finally {
    await runtime.store.close();
  }
}

const printJson = (out: Out, value: unknown): void => void out.write(JSON.stringify(value, null, 2) + '\n');

/** Shortest id prefix `show`/`export`/`retry` accept: shorter ones match too much to be worth a full scan. */
export const MIN_PREFIX_LENGTH = 6;
/** How many requests a prefix lookup reads, newest first (a store query by prefix would lift this). */
const PREFIX_SCAN_LIMIT = 1_000_000;

/**
 * Read commands refuse a missing database instead of creating an empty one: run from the wrong folder,
 * they would otherwise report "not found" (or an empty list) about a database that is elsewhere.
 */
export function requireDatabase(config: Config): void {
  // A PostgreSQL database is the fleet's: it exists or the connection says so.
  if (config.database.kind === 'postgres' || config.dbPath === ':memory:' || existsSync(config.dbPath)) return;
  throw new JobhookError(
    'JH_ERR_INVALID_CONFIG',
    `no jobhook database at ${config.dbPath}; pass --db or run from the folder where serve runs`,
  );
}

/**
 * The request behind a request ID or jobId given on the command line, or a unique prefix of either (as
 * copied from `jobhook requests`); JH_ERR_NOT_FOUND when none matches, JH_ERR_INVALID_ARGUMENT listing
 * the candidates when several do.
 */
export async function requireRequest(store: Store, id: string): Promise<RequestRecord> {
  const request = await store.findRequest(id);
  if (request) return request;
  if (id.length >= MIN_PREFIX_LENGTH) {
    const all = await store.listRequests({ limit: PREFIX_SCAN_LIMIT });
    const matches = all.filter((r) => r.requestId.startsWith(id) || (r.jobId?.startsWith(id) ?? false));
    if (matches.length === 1) return matches[0]!;
    // Several requests of one job (a minted one and an unverified copy): the jobId lookup decides, minted first.
    const jobIds = new Set(matches.map((r) => (r.jobId?.startsWith(id) ? r.jobId : r.requestId)));
    if (jobIds.size === 1 && matches.every((r) => r.jobId?.startsWith(id))) {
      const byJob = await store.findRequest([...jobIds][0]!);
      if (byJob) return byJob;
    }
    if (matches.length > 1) {
      const shown = matches.slice(0, 5).map((r) => (r.jobId?.startsWith(id) ? `${r.jobId} (jobId)` : r.requestId));
      const more = matches.length > shown.length ? ` and ${matches.length - shown.length} more` : '';
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `${id} is ambiguous: ${matches.length} requests start with it (${shown.join(', ')}${more}); give more characters`,
      );
    }
  }
  const hint = id.length < MIN_PREFIX_LENGTH ? ` (a prefix needs at least ${MIN_PREFIX_LENGTH} characters)` : '';
  throw new JobhookError(
    'JH_ERR_NOT_FOUND',
    `no request with request ID or jobId ${id}${hint}; list them with \`jobhook requests\` (and check --db)`,
  );
}

function missingId(command: string, rest: string): JobhookError {
  return new JobhookError(
    'JH_ERR_INVALID_ARGUMENT',
    `${command} needs a request ID or jobId (or a unique prefix); usage: jobhook ${command} <id> ${rest}`.trimEnd(),
  );
}

/**
 * `jobhook mint [--kind job|subscription] [--api <path>] [--json]`. Stdout's first line is the URL alone, so
 * `URL=$(jobhook mint --kind subscription)` works; a subscription's verification token goes to `err` in text
 * mode (it is in the object with `--json`).
 */
export function mintCommand(config: Config, out: Out, err: Out = process.stderr): Promise<void> {
  const kind = config.kind;
  if (kind !== 'job' && kind !== 'subscription') {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--kind ${kind} is not a kind; use job or subscription`);
  }
  return withRuntime(config, async (runtime) => {
    const base = await callbackBaseFor(runtime, config, (line) => err.write(`jobhook: ${line}\n`));
    const api = config.api === null ? undefined : resolveAsyncApi(config.api).path;
    const mint = minterFor(runtime, config, base.publicUrl, base.pathPrefix);
    if (kind === 'job') {
      const minted = await mint({ api });
      if (config.json) printJson(out, minted);
      else out.write(`${minted.callbackUrl}\n`);
      return;
    }
    const minted = await mint({ kind, api });
    if (config.json) printJson(out, minted);
    else {
      out.write(`${minted.callbackUrl}\n`);
      err.write(`verification token: ${minted.verificationToken}\n`);
    }
  });
}

/** `jobhook prune --state rejected|unknown [--older-than 5m]`: forget submissions that never led anywhere. */
export function pruneCommand(config: Config, out: Out): Promise<void> {
  if (config.state !== 'rejected' && config.state !== 'unknown') {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      'prune needs --state rejected or --state unknown; only requests whose submission led nowhere are pruned',
    );
  }
  const state = config.state;
  return withRuntime(config, async (runtime) => {
    const pruned = await runtime.store.pruneRequests(state, Date.now() - config.olderThanMs);
    if (config.json) printJson(out, { pruned, state });
    else
      out.write(
        `pruned ${pruned} ${state} request${pruned === 1 ? '' : 's'} older than ${config.olderThanMs / 1000} s\n`,
      );
  });
}

export function requestsCommand(config: Config, out: Out): Promise<void> {
  if (config.state !== null && !isDisplayState(config.state)) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--state ${config.state} is not a state; use one of ${DISPLAY_STATES.join(', ')}`,
    );
  }
  return withRuntime(config, async ({ store }) => {
    const requests = await store.listRequests({
      state: (config.state as DisplayState | null) ?? undefined,
      // `punctuate`, `speechToText` or the path, as everywhere else.
      api: config.api === null ? undefined : resolveAsyncApi(config.api).path,
      limit: config.limit,
    });
    if (config.json) printJson(out, { requests });
    else out.write(formatRequestTable(requests));
  });
}

export function showCommand(config: Config, args: string[], out: Out): Promise<void> {
  const id = args[0];
  if (!id) throw missingId('show', '[--json]');
  return withRuntime(config, async ({ store }) => {
    const request = await requireRequest(store, id);
    const view = { request, deliveries: (await store.listDeliveries(request.requestId)).map(toDeliveryView) };
    if (config.json) printJson(out, view);
    else out.write(formatRequestDetail(view));
  });
}

export function rotateSecretCommand(config: Config, out: Out): Promise<void> {
  return withRuntime(config, async ({ store }) => {
    const secrets = await store.addSecret(generateSecret());
    out.write(
      `added a new callback secret; ${secrets.length} secrets now verify (restart running servers to mint with it)\n`,
    );
  });
}

export function retryCommand(config: Config, args: string[], out: Out): Promise<void> {
  const id = args[0];
  if (!id) throw missingId('retry', '');
  return withRuntime(config, async ({ store }) => {
    const request = await requireRequest(store, id);
    const count = await store.retryHandlerRuns(request.requestId);
    out.write(
      `${count} dead-lettered handler run(s) of ${request.requestId} will run again (by a running serve/dev)\n`,
    );
  });
}

/**
 * `jobhook export <requestId|jobId|prefix> [--format json|txt|srt|vtt]`: a job's result; or
 * `jobhook export <domain>:<sourceRecordId> [--format …]`: an ACE insight record's newest version (its
 * transcript by speaker for txt, SRT and WebVTT), when the part before the first `:` is an ACE domain.
 */
export function exportCommand(config: Config, args: string[], out: Out): Promise<void> {
  const id = args[0];
  if (!id) throw missingId('export', '[--format json|txt|srt|vtt] (or <domain>:<sourceRecordId> for ACE insights)');
  if (!EXPORT_FORMATS.includes(config.format as ExportFormat)) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--format ${config.format} is not a format; use one of ${EXPORT_FORMATS.join(', ')}`,
    );
  }
  const colon = id.indexOf(':');
  const domain = id.slice(0, Math.max(colon, 0));
  if (isAceDomain(domain)) {
    const key = { domain, sourceRecordId: id.slice(colon + 1) };
    return withRuntime(config, async ({ store }) => {
      const found = key.sourceRecordId === '' ? null : await readInsights(store, key);
      if (!found) {
        throw new JobhookError(
          'JH_ERR_NOT_FOUND',
          `no ACE insight record ${domain} ${key.sourceRecordId || '(empty id)'} is stored; list them with \`jobhook insights\`, or read one back with \`jobhook insights ${domain} <sourceRecordId>\``,
        );
      }
      out.write(exportInsights(found.insights, config.format as ExportFormat).body);
    });
  }
  return withRuntime(config, async ({ store }) => {
    const request = await requireRequest(store, id).catch((error: unknown) => {
      // `phone:123`: an ACE record asked for with a domain that does not exist (a documented mix-up).
      if (colon < 0 || !(error instanceof JobhookError) || error.code !== 'JH_ERR_NOT_FOUND') throw error;
      throw new JobhookError(
        'JH_ERR_NOT_FOUND',
        `${error.message}; for ACE insights give <domain>:<sourceRecordId> with a domain of ${ACE_DOMAINS.join(', ')}`,
      );
    });
    const outcome = await readOutcome(store, request);
    if (!outcome) {
      throw new JobhookError('JH_ERR_NOT_FOUND', `request ${request.requestId} has no result (state ${request.state})`);
    }
    out.write(exportResult(outcome.envelope.response, config.format as ExportFormat).body);
  });
}
