import type { Logger } from 'pino';
import { deliveryRules } from '../ringcentral/delivery-rules.js';
import type { IngestStore } from '../store/store.js';
import type { EnvelopeParseResult } from '../types.js';
import { createBodyParser, type BodyParser } from './parse-worker.js';

/**
 * The after-ack step: folds duplicates, parses stored bodies into envelopes, indexes jobIds and
 * settles requests, through `store.indexDeliveries`. Acknowledging comes first: a pass starts once the
 * receiver has been quiet for `idleMs`, or, under sustained load, once the oldest unindexed receipt has
 * waited `maxLagMs`. Large passes are also cheaper per delivery. Whatever a crash leaves unindexed is
 * found by the first pass after a restart — and, every `sweepMs`, by a pass of its own: receipts another
 * instance acknowledged and then died before indexing (several instances on one database) would otherwise
 * wait for traffic to reach this one.
 *
 * States: idle → waiting (a timer; each notify pushes the quiet deadline back, never the lag deadline)
 * → running (passes of up to `batchLimit`, yielding to the event loop between passes, until one comes
 * back short) → idle. A failed pass is retried after `retryDelayMs`; the receipts stay stored meanwhile.
 * Spooled (large) bodies are parsed by a worker thread before the pass that indexes them, a few at a time,
 * so the small receipts around them are not held back behind a long queue of large parses.
 */
export interface EnvelopeIndexer {
  /** Asks for a pass soon; cheap to call after every commit. */
  notify(): void;
  /** Resolves once everything notified so far is indexed (or a pass failed). Call `notify()` first to force a pass. */
  drain(): Promise<void>;
  /** Ends the parser worker; a pass in progress finishes first. */
  close(): Promise<void>;
}

export interface EnvelopeIndexerOptions {
  logger?: Logger;
  /** Quiet time after the last receipt before a pass starts. @defaultValue 5 */
  idleMs?: number;
  /** Longest a receipt waits for indexing while receipts keep arriving. @defaultValue 1000 */
  maxLagMs?: number;
  /** Deliveries per pass (one transaction); bounds how long a pass holds the event loop. @defaultValue 200 */
  batchLimit?: number;
  /** @defaultValue 1000 */
  retryDelayMs?: number;
  /** Spooled bodies parsed (in the worker) ahead of each pass. @defaultValue 2 */
  spooledPerPass?: number;
  /** How often an idle indexer looks for receipts nobody indexed (another instance's, left by a crash). @defaultValue 2000 */
  sweepMs?: number;
  /** The worker-thread parser of spooled bodies; one is made when omitted. */
  parser?: BodyParser;
}

export function createEnvelopeIndexer(store: IngestStore, options: EnvelopeIndexerOptions = {}): EnvelopeIndexer {
  const { logger } = options;
  const idleMs = options.idleMs ?? 5;
  const maxLagMs = options.maxLagMs ?? 1000;
  const batchLimit = options.batchLimit ?? 200;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const spooledPerPass = options.spooledPerPass ?? 2;
  const parser = options.parser ?? createBodyParser();
  let parsedAhead = new Map<number, EnvelopeParseResult>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  /** Notified since the last pass began: a drain has work to do. */
  let dirty = false;
  let lastNotifyMs = 0;
  /** When the oldest receipt not yet covered by a pass was notified. */
  let firstPendingMs: number | null = null;
  let closed = false;
  // Idle only: under traffic, notify() already runs passes, which take every unindexed receipt, any instance's.
  const sweep = setInterval(() => {
    if (closed || running || timer) return;
    dirty = true;
    arm(0);
  }, options.sweepMs ?? 2000);
  sweep.unref();

  /** Runs passes until one comes back short; true when everything was indexed. */
  async function runPasses(): Promise<boolean> {
    dirty = false;
    firstPendingMs = null;
    for (;;) {
      let examined: number;
      let blocked: boolean;
      try {
        // Verdicts carry over between passes: a page may end before the body parsed for it.
        const preparsed = new Map<number, EnvelopeParseResult>();
        for (const spooled of await store.listUnparsedSpooled(spooledPerPass)) {
          preparsed.set(
            spooled.deliveryId,
            parsedAhead.get(spooled.deliveryId) ?? (await parser.parse(spooled.path, spooled.kind)),
          );
        }
        parsedAhead = preparsed;
        const pass = await store.indexDeliveries(deliveryRules, batchLimit, preparsed);
        examined = pass.examined;
        blocked = pass.blocked === true;
        for (const event of pass.settled) {
          logger?.info({ requestId: event.requestId, jobId: event.jobId, state: event.state }, 'request settled');
        }
        if (pass.examined > 0) logger?.debug({ examined, duplicates: pass.duplicates }, 'indexed deliveries');
      } catch (error) {
        logger?.error({ err: error }, 'indexing failed; the deliveries stay stored and will be indexed on retry');
        return false;
      }
      if (examined < batchLimit && !blocked) return true;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function start(): void {
    running = runPasses().then((done) => {
      running = null;
      if (!done) arm(retryDelayMs);
      else if (dirty) arm(idleMs);
    });
  }

  function check(): void {
    timer = null;
    if (running) return;
    const now = Date.now();
    const quietFor = now - lastNotifyMs;
    const lag = firstPendingMs === null ? 0 : now - firstPendingMs;
    if (quietFor >= idleMs || lag >= maxLagMs) start();
    else arm(Math.min(idleMs - quietFor, maxLagMs - lag));
  }

  function arm(afterMs: number): void {
    if (timer || running) return;
    timer = setTimeout(check, Math.max(1, afterMs));
    timer.unref();
  }

  return {
    notify() {
      dirty = true;
      lastNotifyMs = Date.now();
      firstPendingMs ??= lastNotifyMs;
      arm(idleMs);
    },
    async drain() {
      if (running) await running;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      // A pass that fails here (a lock held elsewhere at start-up) is retried like any other.
      if (dirty && !(await runPasses())) {
        dirty = true;
        arm(retryDelayMs);
      }
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
      await parser.close();
    },
  };
}
