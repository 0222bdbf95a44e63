import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { EXPORT_FORMATS, exportResult, type ExportFormat } from '../inspector/exports.js';
import { toDeliveryView } from '../inspector/request-view.js';
import { generateSecret } from '../callback/callback-url.js';
import { parseEnvelope } from '../ringcentral/envelope.js';
import { readOutcome } from '../store/outcome.js';
import type { Store } from '../store/store.js';
import type { RequestRecord, RequestState } from '../types.js';
import { formatRequestDetail, formatRequestTable } from './format.js';
import { minterFor, openRuntime, type Runtime } from './runtime.js';

type Out = NodeJS.WritableStream;
const STATES: readonly RequestState[] = ['pending', 'succeeded', 'failed', 'expired'];

async function withRuntime<T>(config: Config, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config);
  try {
    // Index what a stopped (or busy) server has not yet: the commands then show folded duplicates and
    // parsed envelopes whatever the server's state. Idempotent, and cheap when nothing is pending.
    for (let pass; !pass || pass.examined > 0;) pass = await runtime.store.indexDeliveries(parseEnvelope);
    return await fn(runtime);
  } finally {
    await runtime.store.close();
  }
}

const printJson = (out: Out, value: unknown): void => void out.write(JSON.stringify(value, null, 2) + '\n');

/** The request behind a request ID or jobId given on the command line, or JH_ERR_NOT_FOUND. */
async function requireRequest(store: Store, id: string): Promise<RequestRecord> {
  const request = await store.findRequest(id);
  if (!request) throw new JobhookError('JH_ERR_NOT_FOUND', `no request with request ID or jobId ${id}`);
  return request;
}

export function mintCommand(config: Config, out: Out): Promise<void> {
  return withRuntime(config, async (runtime) => {
    const minted = await minterFor(runtime, config)({ api: config.api ?? undefined });
    if (config.json) printJson(out, minted);
    else out.write(`${minted.callbackUrl}\n`);
  });
}

export function requestsCommand(config: Config, out: Out): Promise<void> {
  if (config.state !== null && !STATES.includes(config.state as RequestState)) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--state must be one of ${STATES.join(', ')}`);
  }
  return withRuntime(config, async ({ store }) => {
    const requests = await store.listRequests({
      state: (config.state as RequestState | null) ?? undefined,
      api: config.api ?? undefined,
      limit: config.limit,
    });
    if (config.json) printJson(out, { requests });
    else out.write(formatRequestTable(requests));
  });
}

export function showCommand(config: Config, args: string[], out: Out): Promise<void> {
  const id = args[0];
  if (!id) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'usage: jobhook show <requestId|jobId>');
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
  if (!id) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'usage: jobhook retry <requestId|jobId>');
  return withRuntime(config, async ({ store }) => {
    const request = await requireRequest(store, id);
    const count = await store.retryHandlerRuns(request.requestId);
    out.write(
      `${count} dead-lettered handler run(s) of ${request.requestId} will run again (by a running serve/dev)\n`,
    );
  });
}

export function exportCommand(config: Config, args: string[], out: Out): Promise<void> {
  const id = args[0];
  if (!id)
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      'usage: jobhook export <requestId|jobId> --format json|txt|srt|vtt',
    );
  if (!EXPORT_FORMATS.includes(config.format as ExportFormat)) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  return withRuntime(config, async ({ store }) => {
    const request = await requireRequest(store, id);
    const outcome = await readOutcome(store, request);
    if (!outcome) {
      throw new JobhookError('JH_ERR_NOT_FOUND', `request ${request.requestId} has no result (state ${request.state})`);
    }
    out.write(exportResult(outcome.envelope.response, config.format as ExportFormat).body);
  });
}
