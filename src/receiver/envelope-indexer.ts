import type { Logger } from 'pino';
import { parseEnvelope } from '../ringcentral/envelope.js';
import type { Store } from '../store/store.js';
import type { ParseOutcome } from '../types.js';

/**
 * The after-ack step: parses stored bodies into envelopes, indexes jobIds and settles requests.
 * It never runs before the ack, so a slow or failing parse cannot cost a redelivery. Bodies just
 * committed are handed over in memory; after a crash, `recover()` picks up what was left unparsed.
 */
export interface EnvelopeIndexer {
  /** Queues freshly committed bodies for parsing on a later turn of the event loop. */
  enqueue(items: { deliveryId: number; body: Buffer }[]): void;
  /** Parses every delivery still `pending` in the store (start-up recovery). */
  recover(): Promise<number>;
  /** Resolves when the queue is empty. */
  drain(): Promise<void>;
}

const RECOVERY_PAGE = 100;

export function createEnvelopeIndexer(store: Store, logger?: Logger): EnvelopeIndexer {
  let queue: { deliveryId: number; body: Buffer }[] = [];
  let running: Promise<void> | null = null;

  const parseAll = (items: { deliveryId: number; body: Buffer }[]): ParseOutcome[] =>
    items.map(({ deliveryId, body }) => {
      const parsed = parseEnvelope(body);
      return parsed.ok
        ? { deliveryId, ok: true, envelope: parsed.envelope }
        : { deliveryId, ok: false, error: parsed.error };
    });

  async function run(): Promise<void> {
    // Yield first so the acks of the batch that queued these go out before any parsing.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const items = queue;
      queue = [];
      try {
        const settled = await store.recordParseOutcomes(parseAll(items));
        for (const event of settled) {
          logger?.info({ requestId: event.requestId, jobId: event.jobId, state: event.state }, 'request settled');
        }
      } catch (error) {
        // The deliveries stay `pending` in the store; recover() at the next start parses them.
        logger?.error({ err: error, deliveries: items.length }, 'could not record parse outcomes');
      }
    }
    running = null;
  }

  return {
    enqueue(items) {
      if (items.length === 0) return;
      queue.push(...items);
      running ??= run();
    },
    async recover() {
      let total = 0;
      for (;;) {
        const page = await store.listUnparsedDeliveries(RECOVERY_PAGE);
        if (page.length === 0) return total;
        await store.recordParseOutcomes(parseAll(page));
        total += page.length;
      }
    },
    async drain() {
      while (running) await running;
    },
  };
}
