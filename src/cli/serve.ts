import type { Config } from '../config.js';
import { generateForwardSecret, registerForwarding } from '../client/forwarder.js';
import { HandlerRunner } from '../handlers/handler-runner.js';
import { createEmulator, type Emulator } from '../emulator/server.js';
import { createLocalApi } from '../inspector/local-api.js';
import { createEnvelopeIndexer } from '../receiver/envelope-indexer.js';
import { createReceiver } from '../receiver/receiver.js';
import { createPlatform } from '../ringcentral/platform.js';
import { rateBudgetKey } from '../ringcentral/rate-budget-key.js';
import { REMINDER_EVENT_FILTER, SubscriptionKeeper } from '../subscriptions/keeper.js';
import { clientFor, devCredentials, resolveCredentials, type CredentialSource } from './client.js';
import { advertiseServer } from './advertised-server.js';
import { openTunnel } from './tunnel.js';
import { createLogger, minterFor, openRuntime, publicBaseUrl } from './runtime.js';

/** Time past `--shutdown-timeout` for closing the store and exiting before the process gives up with exit 1. */
const SHUTDOWN_MARGIN_MS = 2000;

const hostUrl = (host: string, port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * `jobhook serve`: the public receiver, the loopback-only local API and, when RingCentral credentials are
 * configured, reconciliation through the status endpoint. `jobhook dev` (`withEmulator`) also starts the
 * emulator and points everything at it, so the whole loop runs on one machine with no credentials.
 * Shuts down on SIGTERM/SIGINT within `--shutdown-timeout` (see the states in `stop` below).
 */
export async function serve(
  config: Config,
  { withEmulator = false }: { withEmulator?: boolean } = {},
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const logger = createLogger(config);
  let emulator: Emulator | null = null;
  let emulatorUrl: string | null = null;
  if (withEmulator) {
    emulator = createEmulator(config.emulator, logger.child({ component: 'emulator' }));
    emulatorUrl = hostUrl('127.0.0.1', (await emulator.listen(config.emulatorPort, '127.0.0.1')).port);
  }
  // Credential problems (a partial set, a JWT that is not one) stop the start before anything listens.
  const source: CredentialSource = emulatorUrl
    ? { kind: 'configured', credentials: devCredentials(emulatorUrl) }
    : resolveCredentials(config);
  const runtime = await openRuntime(config, logger);
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
    acceptPaths: config.acceptPaths,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  });
  const publicAddress = await receiver.listen(config.port, config.host);
  const tunnel = config.tunnel ? await openTunnel(config.tunnel, publicAddress.port) : null;
  const publicUrl = tunnel?.url ?? publicBaseUrl(config, publicAddress.port);
  // The subscription keeper (one per database: a store lease), with credentials or dev's emulator only.
  // It gets this start's public URL: a new tunnel address moves every subscription in its first round.
  const keeperCredentials = source.kind === 'configured' ? source.credentials : null;
  const keeperPlatform = keeperCredentials ? createPlatform(keeperCredentials) : null;
  const keeper =
    keeperCredentials && keeperPlatform
      ? new SubscriptionKeeper({
          platform: keeperPlatform,
          store,
          keyring,
          publicUrl,
          pathPrefix: config.pathPrefix,
          intervalMs: config.keeperIntervalMs,
          maxExpiresInS: config.maxExpiresInS,
          // The backfill's ACE reads share the Light group's budget with every process of this app and user;
          // a local emulator states no limit.
          backfillBudget: isLoopbackServer(keeperCredentials.server) ? null : { key: rateBudgetKey(keeperCredentials) },
          onBackfilled: () => indexer.notify(),
          logger,
        })
      : null;
  const localApi = createLocalApi({
    store,
    mint: minterFor(runtime, config, publicUrl),
    // The inspector's Re-create button: the keeper re-creates at once when it holds the lease, else its holder does.
    recreateSubscription: keeper ? (name) => keeper.recreate(name) : undefined,
    token: config.localToken,
    // Refused webhooks (wrong path, bad tag…) shown in the inspector: a callback that never arrives is otherwise invisible.
    refusals: () => receiver.refusals.recent(),
    logger,
  });
  const localAddress = await localApi.listen(config.localPort, config.localHost);
  const localUrl = hostUrl(config.localHost, localAddress.port);
  // `jobhook mint`/`submit` in another terminal read this to mint URLs this server accepts. Only once every
  // listener is up: a start that fails (a port in use) must not replace a running fleet's public URL.
  await advertiseServer(store, { publicUrl, pathPrefix: config.pathPrefix });

  // serve keeps receiving without credentials (reconciliation is a backstop), but never reconciles with
  // made-up ones: only `dev` points its own emulator's credentials at its own emulator.
  const jobhook =
    source.kind === 'configured' ? await clientFor(runtime, config, source.credentials, logger, { publicUrl }) : null;
  jobhook?.reconciler.start();
  keeper?.start();
  if (source.kind === 'configured') {
    logger.info(
      { server: source.credentials.server },
      'reconciliation is on: overdue jobs are read back through the status endpoint',
    );
  } else if (source.kind === 'missing') {
    logger.warn(`reconciliation is off: ${source.problem.message}`);
  } else {
    logger.info(
      'reconciliation is off: set RC_SERVER_URL, RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET and RC_USER_JWT to enable it',
    );
  }
  if (!keeper) logger.info('the subscription keeper is off: it needs the RC_* credentials (or jobhook dev)');
  if (config.acceptPaths.length > 0) {
    logger.warn(
      { accepting: config.acceptPaths.map((path) => `${publicUrl}${path}`) },
      'accepting results at fixed paths without a tag (unverified: anyone who learns these URLs can post results there)',
    );
  }

  // --forward-to: each job result, push event and insights version, as stored, to the user's own server, signed.
  let forwarder: HandlerRunner | null = null;
  let forwardSecret: string | null = null;
  if (config.forwardTo) {
    forwardSecret =
      process.env.JOBHOOK_FORWARD_SECRET ?? (await store.ensureSetting('forward_secret', generateForwardSecret));
    forwarder = new HandlerRunner({ store, logger, leaseMs: config.handlerLeaseMs });
    await registerForwarding(forwarder, { url: config.forwardTo, secret: forwardSecret });
  }

  // Renewal reminders (subscriptions that include `/restapi/v1.0/subscription/~?threshold=…&interval=…`):
  // the keeper renews that subscription at once. A durable handler: the reminder is not lost to a restart.
  let reminders: HandlerRunner | null = null;
  if (keeper) {
    reminders = new HandlerRunner({ store, logger, leaseMs: config.handlerLeaseMs });
    await reminders.registerEvents('subscription-keeper:reminders', REMINDER_EVENT_FILTER, async (event) => {
      if (event.subscriptionId) await keeper.onReminder(event.subscriptionId);
    });
  }

  const receiverUrl = hostUrl(config.host, publicAddress.port);
  out.write(
    [
      withEmulator ? 'jobhook dev is running' : 'jobhook is serving',
      `  receiver   ${receiverUrl}  (webhooks under ${publicUrl}${config.pathPrefix}/<requestId>/<tag>)`,
      ...config.acceptPaths.map(
        (path) => `  accepting  ${publicUrl}${path} (unverified: anyone who learns this URL can post results there)`,
      ),
      ...(tunnel ? [`  tunnel     ${tunnel.url} → ${receiverUrl} (${config.tunnel}; the receiver only)`] : []),
      `  inspector  ${localUrl}/${config.localToken ? '?token=<--local-token>' : ''}`,
      `  local API  ${localUrl}/api/requests`,
      ...(emulatorUrl ? [`  emulator   ${emulatorUrl}  (RingCentral AI API stand-in)`] : []),
      ...(config.forwardTo ? [`  forward    ${config.forwardTo}  (Standard Webhooks secret ${forwardSecret})`] : []),
      `  database   ${config.dbPath}`,
      ...(withEmulator
        ? [
            '',
            `try: npx jobhook submit speech-to-text --content-uri https://example.com/call.mp3 --wait${tryFlags(config, emulatorUrl)}`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  logger.info(
    { receiver: receiverUrl, publicUrl, localApi: localAddress.port, emulator: emulatorUrl, db: config.dbPath },
    'listening',
  );

  // Shutdown states: serving → stopping (on the signal, at once: no claim, forward attempt or reconciliation
  // pass starts; deliveries in flight get the grace to commit and be answered, forwards to finish) → cut off
  // (grace over: bodies still arriving are dropped unanswered and forwards aborted, both retried later — by
  // the sender, by the lease) → closed (store closed, exit 0) | stuck (grace + margin passed with something
  // still open: log it and exit 1 rather than hang).
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.shutdownTimeoutMs;
    logger.info({ signal, graceMs }, 'shutting down: finishing in-flight deliveries and forwards');
    const open = new Set<string>();
    const track = <T>(name: string, step: Promise<T> | undefined): Promise<T | undefined> => {
      if (!step) return Promise.resolve(undefined);
      open.add(name);
      return step.finally(() => open.delete(name));
    };
    setTimeout(() => {
      logger.error({ open: [...open], graceMs }, 'shutdown overran its timeout; exiting with these abandoned');
      process.exit(1);
    }, graceMs + SHUTDOWN_MARGIN_MS);
    void (async () => {
      try {
        // Called in this tick, before any await: each stops starting new work synchronously.
        const forwards = track('forwards', forwarder?.stop({ graceMs }));
        const reminded = track('reminders', reminders?.stop({ graceMs }));
        await Promise.all([
          track('receiver', receiver.close({ graceMs })),
          track('local API', localApi.close()),
          track('client', jobhook?.close()),
          // A round in progress finishes (its writes need the store), then the keeper's session is revoked.
          track(
            'keeper',
            keeper?.stop().then(() => keeperPlatform?.close()),
          ),
          forwards,
          reminded,
          track('tunnel', tunnel?.close()),
        ]);
        await track('emulator', emulator?.close());
        await track('store', store.close());
        const abandoned = (await forwards) ?? [];
        logger.info({ abandonedForwards: abandoned.length }, 'stopped cleanly');
        process.exit(0);
      } catch (error) {
        logger.error({ err: error, open: [...open] }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** `http://127.0.0.1:…`, `localhost`, `[::1]`: a local emulator (the real platform never is). */
function isLoopbackServer(server: string): boolean {
  try {
    const host = new URL(server).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * What the banner's `try:` line needs besides the defaults for `submit` to reach this dev: its emulator's
 * port and its database when they are not the defaults (a hidden password stays a placeholder to fill in).
 */
function tryFlags(config: Config, emulatorUrl: string | null): string {
  const flags: string[] = [];
  const port = emulatorUrl ? new URL(emulatorUrl).port : '';
  if (port && port !== '8787') flags.push(`--emulator-port ${port}`);
  if (config.explicit.has('db')) flags.push(`--db '${config.dbPath.replace(/'/g, "'\\''")}'`);
  return flags.length > 0 ? ` ${flags.join(' ')}` : '';
}
