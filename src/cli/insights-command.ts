import { formatTable } from './format.js';
import { readInsights, type AwaitedInsights } from '../client/insights-waiter.js';
import type { Config } from '../config.js';
import { JobhookError } from '../errors.js';
import { ACE_DOMAINS, isAceDomain, type AceInsightUnit, type AceRecordingInsights } from '../ringcentral/ace.js';
import { deliveryRules } from '../ringcentral/delivery-rules.js';
import { createPlatform } from '../ringcentral/platform.js';
import { rateBudgetKey } from '../ringcentral/rate-budget-key.js';
import type { Store } from '../store/store.js';
import { backfillRecord } from '../subscriptions/backfill.js';
import type { InsightsRecord } from '../types.js';
import { credentialsFromEnv } from './client.js';
import { requireDatabase } from './commands.js';
import { createLogger, openRuntime } from './runtime.js';

type Out = NodeJS.WritableStream;

export interface InsightsCommandOptions {
  /** Read the record back through REST even when it is stored (a newer version may exist). @defaultValue false */
  refresh?: boolean;
  /** Where the RingCentral credentials are read (`RC_*`). @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Notes for the user (the local emulator in use). @defaultValue process.stderr */
  err?: Out;
}

const USAGE = 'usage: jobhook insights [<domain> <sourceRecordId>]';

/**
 * `jobhook insights`: the stored ACE insight records, newest first. `jobhook insights <domain>
 * <sourceRecordId>`: one record, read back through ACE's REST endpoint when it is not stored yet (events
 * missed while the receiver was down or the subscription blacklisted), stored as the webhook would have,
 * then printed: title, speakers, summary, highlights, next steps, AI score (`--json`: the record and its
 * parsed insights). Exit code 0; a record the platform does not have (yet) is JH_ERR_NOT_FOUND.
 */
export async function insightsCommand(
  config: Config,
  args: string[],
  out: Out,
  options: InsightsCommandOptions = {},
): Promise<number> {
  if (args.length === 0) {
    requireDatabase(config);
    await withStore(config, async (store) => {
      const records = await store.listInsights({ limit: config.limit });
      if (config.json) out.write(JSON.stringify({ insights: records }, null, 2) + '\n');
      else out.write(formatInsightsTable(records));
    });
    return 0;
  }
  const [domain, sourceRecordId] = args;
  if (args.length !== 2 || !domain || !sourceRecordId) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', USAGE);
  if (!isAceDomain(domain)) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `${domain} is not an ACE domain; use one of ${ACE_DOMAINS.join(', ')} (${USAGE})`,
    );
  }
  const key = { domain, sourceRecordId };
  await withStore(config, async (store) => {
    let found = options.refresh ? null : await readInsights(store, key);
    if (!found) {
      await readBack(config, store, key, options);
      found = await readInsights(store, key);
    }
    if (!found)
      throw new JobhookError(
        'JH_ERR_NOT_FOUND',
        `ACE insights of ${domain} ${sourceRecordId} were read but not indexed`,
      );
    if (config.json) out.write(JSON.stringify(found, null, 2) + '\n');
    else out.write(formatInsights(found));
  });
  return 0;
}

async function withStore(config: Config, fn: (store: Store) => Promise<void>): Promise<void> {
  const runtime = await openRuntime(config);
  try {
    // What a stopped server left unindexed becomes records first (as the other read commands do).
    for (let pass; !pass || (pass.examined > 0 && !pass.blocked);)
      pass = await runtime.store.indexDeliveries(deliveryRules);
    await fn(runtime.store);
  } finally {
    await runtime.store.close();
  }
}

/** `http://127.0.0.1:…`, `localhost`, `[::1]`: a local emulator, read without a budget as the submit gate does. */
function isLoopbackServer(server: string): boolean {
  try {
    const host = new URL(server).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

async function readBack(
  config: Config,
  store: Store,
  key: { domain: string; sourceRecordId: string },
  options: InsightsCommandOptions,
): Promise<void> {
  const { credentials, local } = credentialsFromEnv(config, options.env);
  if (local) {
    (options.err ?? process.stderr).write(
      `jobhook: no RC_* credentials; reading ACE insights from the local emulator at ${credentials.server}\n`,
    );
  }
  const platform = createPlatform(credentials);
  try {
    const stored = await backfillRecord({
      platform,
      store,
      ...key,
      // The Light group's 50 a minute, shared with every process of this app and user; none on a local emulator.
      budget: isLoopbackServer(credentials.server) ? null : { key: rateBudgetKey(credentials) },
      index: deliveryRules,
      logger: createLogger(config),
    });
    if (!stored) {
      throw new JobhookError(
        'JH_ERR_NOT_FOUND',
        `the platform has no ACE insights for ${key.domain} ${key.sourceRecordId} (404): they arrive minutes to ` +
          'tens of minutes after a recorded call ends, or the id is not a record id of that domain (pbx: the call ' +
          'log’s recording.id, not the telephony session id)',
      );
    }
  } finally {
    await platform.close();
  }
}

export function formatInsightsTable(records: readonly InsightsRecord[]): string {
  if (records.length === 0) {
    return 'no ACE insight records stored yet (they arrive by subscription, or read one: jobhook insights <domain> <sourceRecordId>)\n';
  }
  const rows = records.map((r) => [
    r.updatedAt,
    r.domain,
    r.sourceRecordId,
    String(r.versions),
    r.source === 'webhook' ? 'event' : 'REST',
    r.title ?? '-',
  ]);
  return formatTable(['UPDATED', 'DOMAIN', 'SOURCE RECORD ID', 'VERSIONS', 'VIA', 'TITLE'], rows);
}

function speakerName(insights: AceRecordingInsights, speakerId: unknown): string {
  const speaker = insights.speakerInfo.find((s) => s.speakerId === speakerId);
  return speaker?.name ?? (typeof speakerId === 'string' ? speakerId : '');
}

function section(title: string, units: AceInsightUnit[] | undefined, insights: AceRecordingInsights): string[] {
  if (!units || units.length === 0) return [];
  return [
    `${title}:`,
    ...units.map((u) => {
      const who = u.speakerId === undefined ? '' : `${speakerName(insights, u.speakerId)}: `;
      return `  - ${who}${u.value ?? u.text ?? ''}`.replace(/\n/g, '\n    ');
    }),
  ];
}

export function formatInsights({ record, insights }: AwaitedInsights): string {
  const i = insights.insights;
  const seconds = insights.recordingDurationMs === undefined ? null : Math.round(insights.recordingDurationMs / 1000);
  const lines = [
    `${record.domain} ${record.sourceRecordId}  ${insights.title ?? '(no title)'}`,
    `  session ${insights.sourceSessionId ?? '-'}  recorded ${insights.recordingStartTime ?? '-'}` +
      (seconds === null ? '' : ` (${Math.floor(seconds / 60)} min ${seconds % 60} s)`),
    `  last modified ${record.lastModifiedTime ?? '-'}  versions ${record.versions}  via ${
      record.source === 'webhook' ? 'event' : 'REST read-back'
    }`,
  ];
  if (insights.speakerInfo.length > 0) {
    lines.push('Speakers:');
    for (const s of insights.speakerInfo) {
      const where = s.extensionId ? ` (extension ${s.extensionId})` : s.accountId === null ? ' (external)' : '';
      lines.push(`  ${s.speakerId}  ${s.name ?? '-'}${where}`);
    }
  }
  lines.push(...section('Summary', i.Summary, insights));
  lines.push(...section('Highlights', i.Highlights, insights));
  lines.push(...section('Next steps', i.NextSteps, insights));
  const score = i.AIScore?.[0]?.value;
  if (score !== undefined) lines.push(`AI score: ${score}`);
  const sentiment = i.Sentiment?.[0]?.value;
  if (sentiment !== undefined) lines.push(`Sentiment: ${sentiment}`);
  if (i.Transcript) lines.push(`Transcript: ${i.Transcript.length} lines (--json for all of it)`);
  return lines.join('\n') + '\n';
}
