import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { createPlatform, type Platform } from '../ringcentral/platform.js';
import { aceFilters, checkSubscriptionName, defaultSubscriptionName } from '../subscriptions/filters.js';
import { subscribe, unsubscribe } from '../subscriptions/subscribe.js';
import type { SubscriptionRecord } from '../types.js';
import { credentialsFromEnv } from './client.js';
import { callbackBaseFor, minterFor, openRuntime, type Runtime } from './runtime.js';

type Out = NodeJS.WritableStream;

export interface SubscribeCommandOptions {
  /** Where the RC_* credentials are read. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Warnings and notes. @defaultValue process.stderr */
  err?: Out;
}

const USAGE =
  'usage: jobhook subscribe --filter <eventFilter>… [--name <n>] | jobhook subscribe ace [--domains pbx,rcv,rcx,ms-teams,nice-incontact]';

async function withPlatform<T>(
  config: Config,
  options: SubscribeCommandOptions,
  fn: (runtime: Runtime, platform: Platform) => Promise<T>,
): Promise<T> {
  // Credentials first: a missing or partial set is a usage error before the database is touched.
  const { credentials, local } = credentialsFromEnv(config, options.env);
  if (local) {
    (options.err ?? process.stderr).write(
      `jobhook: no RC_* credentials; using the local emulator at ${credentials.server}\n`,
    );
  }
  const runtime = await openRuntime(config);
  const platform = createPlatform(credentials);
  try {
    return await fn(runtime, platform);
  } finally {
    await platform.close();
    await runtime.store.close();
  }
}

/**
 * `jobhook subscribe --filter <eventFilter>… [--name <n>] [--expires-in <d>] [--replace]` and
 * `jobhook subscribe ace [--domains …]`: a WebHook subscription delivering to a minted subscription URL
 * of the running server, created through the official SDK and kept in the store (a running serve/dev keeps
 * it alive). Every disabled filter is a loud warning: it is how a missing RingSense scope shows.
 */
export async function subscribeCommand(
  config: Config,
  args: string[],
  out: Out,
  options: SubscribeCommandOptions = {},
): Promise<number> {
  const err = options.err ?? process.stderr;
  const ace = args[0] === 'ace';
  if (args.length > (ace ? 1 : 0))
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `unexpected ${args.join(' ')}; ${USAGE}`);
  if (ace && config.filters.length > 0) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `subscribe ace takes --domains, not --filter; ${USAGE}`);
  }
  if (!ace && config.domains !== null) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `--domains is for subscribe ace; ${USAGE}`);
  }
  const eventFilters = ace ? aceFilters(config.domains) : [...new Set(config.filters)];
  if (eventFilters.length === 0) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `no event filter given; ${USAGE}`);
  const bad = eventFilters.find((f) => !f.startsWith('/'));
  if (bad !== undefined) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `--filter ${bad}: an event filter is a path such as /restapi/v1.0/account/~/extension/~/presence`,
    );
  }
  const name = checkSubscriptionName(config.name ?? (ace ? 'ace' : defaultSubscriptionName(eventFilters)));
  const expiresInS = config.expiresInS ?? config.maxExpiresInS;

  return withPlatform(config, options, async (runtime, platform) => {
    const base = await callbackBaseFor(runtime, config, (line) => err.write(`jobhook: ${line}\n`));
    const mint = minterFor(runtime, config, base.publicUrl, base.pathPrefix);
    const { record, info, clamped } = await subscribe({
      platform,
      store: runtime.store,
      mint: () => mint({ kind: 'subscription' }),
      name,
      eventFilters,
      expiresInS,
      maxExpiresInS: config.maxExpiresInS,
      replace: config.replace,
    });
    if (clamped) {
      err.write(`jobhook: --expires-in is above the maximum; asked for ${record.expiresIn} s (--max-expires-in)\n`);
    }
    for (const d of info.disabledFilters) {
      err.write(
        `jobhook: WARNING: the platform disabled ${d.filter || 'a filter'}: ${d.reason || 'no reason given'}` +
          `${d.message ? ` (${d.message})` : ''}; its events will NOT arrive. For ACE filters the app needs the ` +
          'RingSense scope and the user the ReadRingSenseInsights permission (`jobhook doctor` checks both)\n',
      );
    }
    if (info.status !== 'Active') {
      err.write(`jobhook: WARNING: the platform created it ${info.status}; a running serve/dev re-creates it\n`);
    }
    if (config.json) out.write(JSON.stringify({ subscription: record }, null, 2) + '\n');
    else {
      out.write(
        [
          `subscribed ${record.name}: ${record.status}, platform id ${record.platformId ?? '-'}`,
          `  address   ${record.address ?? '-'}`,
          `  expires   ${record.expiresAt ?? '-'} (expiresIn ${record.expiresIn} s asked)`,
          ...record.eventFilters.map((f, i) => `  ${i === 0 ? 'filters ' : '        '}  ${f}`),
          '  kept alive (renewed, re-created, moved) by a running jobhook serve/dev',
          '',
        ].join('\n'),
      );
    }
    return 0;
  });
}

/** `jobhook unsubscribe <name|platformId>`: deletes it on the platform (already gone is fine) and forgets it. */
export async function unsubscribeCommand(
  config: Config,
  args: string[],
  out: Out,
  options: SubscribeCommandOptions = {},
): Promise<number> {
  const [id] = args;
  if (args.length !== 1 || !id) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'usage: jobhook unsubscribe <name|platformId>');
  }
  return withPlatform(config, options, async (runtime, platform) => {
    const { record, deleted } = await unsubscribe({ platform, store: runtime.store, nameOrPlatformId: id });
    if (config.json) out.write(JSON.stringify({ unsubscribed: record.name, deleted }, null, 2) + '\n');
    else {
      const what =
        deleted.length > 0 ? `deleted on the platform (${deleted.join(', ')})` : 'already gone from the platform';
      out.write(`unsubscribed ${record.name}: ${what}\n`);
    }
    return 0;
  });
}

/** `jobhook subscriptions [--json]`: the kept subscriptions and their state, from the store alone. */
export async function subscriptionsCommand(config: Config, out: Out): Promise<number> {
  const runtime = await openRuntime(config);
  try {
    const records = await runtime.store.listSubscriptions();
    if (config.json) out.write(JSON.stringify({ subscriptions: records }, null, 2) + '\n');
    else out.write(formatSubscriptions(records));
  } finally {
    await runtime.store.close();
  }
  return 0;
}

function reasonOf(data: unknown): string | null {
  const reason = (data as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : null;
}

export function formatSubscriptions(records: readonly SubscriptionRecord[]): string {
  if (records.length === 0) {
    return 'no subscriptions kept (create one: jobhook subscribe ace, or jobhook subscribe --filter <eventFilter>)\n';
  }
  const header = ['NAME', 'STATUS', 'PLATFORM ID', 'EXPIRES', 'LAST EVENT', 'FILTERS'];
  const rows = records.map((r) => [
    r.name,
    r.status,
    r.platformId ?? '-',
    r.expiresAt ?? '-',
    r.lastEventAt ?? '-',
    String(r.eventFilters.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [line(header)];
  for (const [i, r] of records.entries()) {
    lines.push(line(rows[i]!));
    for (const f of r.eventFilters) lines.push(`    filter    ${f}`);
    const reason = reasonOf(r.blacklistedData);
    if (reason) lines.push(`    blacklisted: ${reason}`);
    for (const d of r.disabledFilters as { filter?: unknown; reason?: unknown; message?: unknown }[]) {
      const text = [d.reason, d.message].filter((x) => typeof x === 'string').join(': ');
      lines.push(`    DISABLED  ${typeof d.filter === 'string' ? d.filter : '?'}${text ? ` (${text})` : ''}`);
    }
    if (r.lastError) lines.push(`    error     ${r.lastError}`);
  }
  return lines.join('\n') + '\n';
}
