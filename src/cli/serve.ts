import type { Config } from '../config.js';
import { createLocalApi } from '../inspector/local-api.js';
import { createEnvelopeIndexer } from '../receiver/envelope-indexer.js';
import { createReceiver } from '../receiver/receiver.js';
import { createLogger, minterFor, openRuntime, publicBaseUrl } from './runtime.js';

/**
 * `jobhook serve`: the public receiver and the loopback-only local API. Shuts down on SIGTERM/SIGINT:
 * stop accepting, let in-flight deliveries commit and answer, close the store, exit 0.
 */
export async function serve(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const logger = createLogger(config);
  const runtime = await openRuntime(config);
  const { store, keyring } = runtime;

  // Index whatever the last run acknowledged but did not get to (a crash between ack and index).
  const indexer = createEnvelopeIndexer(store, { logger });
  indexer.notify();
  await indexer.drain();

  const receiver = createReceiver({
    store,
    keyring,
    indexer,
    pathPrefix: config.pathPrefix,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  });
  const publicAddress = await receiver.listen(config.port, config.host);
  const publicUrl = publicBaseUrl(config, publicAddress.port);
  const localApi = createLocalApi({ store, mint: minterFor(runtime, config, publicUrl), logger });
  const localAddress = await localApi.listen(config.localPort, '127.0.0.1');

  const receiverUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${publicAddress.port}`;
  out.write(
    [
      'jobhook is serving',
      `  receiver   ${receiverUrl}  (webhooks under ${publicUrl}${config.pathPrefix}/<requestId>/<tag>)`,
      `  local API  http://127.0.0.1:${localAddress.port}/api/requests`,
      `  database   ${config.dbPath}`,
      '',
    ].join('\n'),
  );
  logger.info({ receiver: receiverUrl, publicUrl, localApi: localAddress.port, db: config.dbPath }, 'listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight deliveries');
    void (async () => {
      try {
        await Promise.all([receiver.close(), localApi.close()]);
        await store.close();
        logger.info('stopped cleanly');
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
