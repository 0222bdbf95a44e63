import type { Logger } from 'pino';
import { expect } from 'vitest';
import { createLocalApi, type LocalApi } from '../../src/inspector/local-api.js';
import { sttEnvelope } from './fixtures.js';
import { post, startHarness, waitFor, type Harness } from './receiver-harness.js';
import { tempDbPath } from './temp.js';

export interface LocalApiHarness {
  harness: Harness;
  api: LocalApi;
  port: number;
  /** A request settled `succeeded` whose handler run is `succeeded`: a replay makes the run pending again. */
  requestId: string;
  /** Fields of every `warn` the local API logged. */
  warnings: Record<string, unknown>[];
  /** The state of the request's handler run, read from the store. */
  runState(): Promise<string | undefined>;
  close(): Promise<void>;
}

const HANDLER = 'local-api-test';

/**
 * A real receiver and SQLite file, the local API on 127.0.0.1:0 showing the receiver's refusals, and one
 * replayable request. `acceptPaths` are passed to the receiver (unverified deliveries).
 */
export async function startLocalApi(options: { acceptPaths?: string[] } = {}): Promise<LocalApiHarness> {
  const harness = await startHarness(tempDbPath(), { acceptPaths: options.acceptPaths ?? [] });
  const warnings: Record<string, unknown>[] = [];
  const quiet = (): void => undefined;
  const logger = {
    warn: (fields: Record<string, unknown>) => warnings.push(fields),
    error: quiet,
    info: quiet,
    debug: quiet,
  } as unknown as Logger;
  const api = createLocalApi({
    store: harness.store,
    mint: harness.mint,
    logger,
    refusals: () => harness.receiver.refusals.recent(),
  });
  const port = (await api.listen(0, '127.0.0.1')).port;
  await harness.store.registerHandler(HANDLER, null);
  const { requestId, callbackUrl } = await harness.mint({ kind: 'job' });
  expect(await post(callbackUrl, JSON.stringify(sttEnvelope(`job-${requestId}`)))).toBe(200);
  await waitFor(async () => (await harness.store.findRequest(requestId))?.state === 'succeeded');
  const claimed = await harness.store.claimHandlerRuns(HANDLER, 60_000, 10);
  expect(claimed.map((r) => r.requestId)).toEqual([requestId]);
  await harness.store.completeHandlerRun(claimed[0]!, { ok: true });
  return {
    harness,
    api,
    port,
    requestId,
    warnings,
    runState: async () => (await harness.store.listHandlerRuns(requestId)).find((r) => r.handler === HANDLER)?.state,
    async close() {
      await api.close();
      await harness.close();
    },
  };
}
