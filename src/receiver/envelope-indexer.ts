import type { Logger } from 'pino';
import { parseEnvelope } from '../ringcentral/envelope.js';
import type { Store } from '../store/store.js';

/**
 * The after-ack step: folds duplicates, parses stored bodies into envelopes, indexes jobIds and
 * settles requests, through `store.indexDeliveries`. It never runs before an ack: a burst is first
 * acknowledged, then indexed in large passes a few milliseconds later, which also makes each pass
 * cheaper per delivery. Whatever a crash leaves unindexed is found by the first pass after a restart.
 *
 * States: idle → scheduled (a timer of `delayMs`) → running (passes of up to `batchLimit`, yielding to
 * the event loop between passes, until one comes back short) → idle. A failed pass is retried after
 * `retryDelayMs`; the receipts stay stored meanwhile.
 */
export interface EnvelopeIndexer {
  /** Asks for a pass soon; cheap to call after every commit. */
  notify(): void;
  /** Resolves once everything notified so far is indexed (or a pass failed). Call `notify()` first to force a pass. */
  drain(): Promise<void>;
  /** Cancels a scheduled pass (for shutdown after `drain`). */
  stop(): void;
}

export interface EnvelopeIndexerOptions {
  logger?: Logger;
  /** @defaultValue 10 */
  delayMs?: number;
  /** @defaultValue 1000 */
  batchLimit?: number;
  /** @defaultValue 1000 */
  retryDelayMs?: number;
}

export function createEnvelopeIndexer(store: Store, options: EnvelopeIndexerOptions = {}): EnvelopeIndexer {
  const { logger } = options;
  const delayMs = options.delayMs ?? 10;
  const batchLimit = options.batchLimit ?? 1000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  /** Notified since the last pass began: a drain has work to do. */
  let dirty = false;

  /** Runs passes until one comes back short; true when everything was indexed. */
  async function runPasses(): Promise<boolean> {
    dirty = false;
    for (;;) {
      let examined: number;
      try {
        const pass = await store.indexDeliveries(parseEnvelope, batchLimit);
        examined = pass.examined;
        for (const event of pass.settled) {
          logger?.info({ requestId: event.requestId, jobId: event.jobId, state: event.state }, 'request settled');
        }
        if (pass.examined > 0) logger?.debug({ examined, duplicates: pass.duplicates }, 'indexed deliveries');
      } catch (error) {
        logger?.error({ err: error }, 'indexing failed; the deliveries stay stored and will be indexed on retry');
        return false;
      }
      if (examined < batchLimit) return true;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function schedule(afterMs: number): void {
    if (timer || running) return;
    timer = setTimeout(() => {
      timer = null;
      running = runPasses().then((done) => {
        running = null;
        if (!done) schedule(retryDelayMs);
      });
    }, afterMs);
    timer.unref();
  }

  return {
    notify() {
      dirty = true;
      schedule(delayMs);
    },
    async drain() {
      if (running) await running;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (dirty) await runPasses();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
