import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

/**
 * The inspector page's live feed (server-sent events on `GET /api/events`):
 * - `changed` when the listed requests, the receiver's refusals or the kept subscriptions change (polled
 *   once a second while a page listens: cheap reads, and they see other processes' writes too);
 * - `insights` with `{domain, sourceRecordId}` when an ACE insight record gets a new version (the store's
 *   hint, any process); when hints may have been lost, `changed`, so the page re-reads.
 * States: idle (no page listens: no polling, no store subscription) ⇄ live (at least one stream).
 */
export interface LiveEvents {
  open(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

export function createLiveEvents(options: {
  store: Store;
  refusals?: () => readonly { at: string }[];
  logger?: Logger;
  intervalMs?: number;
}): LiveEvents {
  const { store, logger } = options;
  const streams = new Set<ServerResponse>();
  let lastSignature = '';
  let unsubscribe: (() => void) | null = null;
  const send = (event: string, data: unknown): void => {
    for (const stream of streams) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  async function signature(): Promise<string> {
    const [rows, subscriptions] = await Promise.all([store.listRequests({ limit: 500 }), store.listSubscriptions()]);
    const refused = options.refusals?.();
    return rows
      .map((r) => `${r.requestId}:${r.state}:${r.submitState}:${r.deliveryCount}:${r.updatedAt}`)
      .concat(subscriptions.map((s) => `sub:${s.name}:${s.status}:${s.updatedAt}:${s.lastEventAt ?? ''}`))
      .concat(refused ? [`refused:${refused.length}:${refused[0]?.at ?? ''}`] : [])
      .join('|');
  }

  const watch = setInterval(() => {
    if (streams.size === 0) return;
    signature()
      .then((next) => {
        if (next === lastSignature) return;
        lastSignature = next;
        send('changed', {});
      })
      .catch((err: unknown) => logger?.warn({ err }, 'inspector event check failed'));
  }, options.intervalMs ?? 1000);
  watch.unref();

  function stop(res: ServerResponse): void {
    streams.delete(res);
    if (streams.size === 0 && unsubscribe) {
      unsubscribe();
      unsubscribe = null;
    }
  }

  return {
    open(req, res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(': jobhook inspector events\n\n');
      streams.add(res);
      unsubscribe ??= store.onInsights(
        (key) => send('insights', { domain: key.domain, sourceRecordId: key.sourceRecordId }),
        () => send('changed', {}),
      );
      req.on('close', () => stop(res));
    },
    close() {
      clearInterval(watch);
      for (const stream of streams) stream.end();
      streams.clear();
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}
