import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { isJobhookError, JobhookError } from '../errors.js';
import type { SubscriptionStore } from '../store/store.js';
import type { SubscriptionRecord } from '../types.js';
import { checkPlatform } from './doctor-platform.js';
import {
  doctorExitCode,
  formatCheck,
  formatSummary,
  jsonReport,
  result,
  type CheckResult,
  type Emit,
} from './doctor-report.js';
import { checkPublicUrl, DEFAULT_URL_LIMITS, type UrlProbeLimits } from './doctor-url.js';
import { EXIT } from './exit-codes.js';
import { openRuntime, type Runtime } from './runtime.js';

/**
 * `jobhook doctor [--public-url <url>] [--db <path>] [--json]`: the pre-flight before going live (issue #12).
 * In order: the credentials and one login (doctor-platform.ts), the app scopes and the user's ACE permission,
 * the public URL with a real handshake and two notifications (doctor-url.ts), and the subscriptions kept in
 * the database. Each check prints one line as it completes — `ok`, `warn`, `FAIL`, `info` or `skip` —
 * and every problem a `fix:` line; `--json` prints one object at the end instead.
 *
 * Exit 0 when nothing failed (warnings allowed); otherwise the first problem's: 2 for configuration (the
 * credentials, scopes, permission, public URL or subscriptions need changing), 6 when the platform could
 * not be reached, 7 when the database could not be opened.
 */
export interface DoctorOptions {
  /** Where the RC_* credentials are read. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Deadline of each request to the platform. @defaultValue 15_000 */
  platformTimeoutMs?: number;
  /** The answer rules a public URL is held to. @defaultValue RingCentral's: 3 s, warn above 1 s, 1024 bytes */
  limits?: Partial<UrlProbeLimits>;
  /** The clock subscriptions' expiry is measured against. @defaultValue Date.now */
  now?: () => number;
}

/** A subscription expiring sooner than this is a problem: nothing renews it unless a keeper runs. */
export const EXPIRY_MARGIN_MS = 24 * 3600_000;

function inWords(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 2 * 3600_000) return `${Math.round(abs / 60_000)} min`;
  if (abs < 48 * 3600_000) return `${Math.round(abs / 3600_000)} h`;
  return `${Math.round(abs / (24 * 3600_000))} d`;
}

const RECREATE =
  'a running serve/dev re-creates it (its keeper); or `jobhook unsubscribe <name>` and `jobhook subscribe` again';

/** One line per kept subscription: not created, not `Active`, expiring within a day, or with disabled filters. */
function checkSubscription(s: SubscriptionRecord, nowMs: number, emit: Emit): void {
  const check = `subscription:${s.name}`;
  const details = { platformId: s.platformId, status: s.status, expiresAt: s.expiresAt, eventFilters: s.eventFilters };
  if (s.platformId === null) {
    return emit(
      result(check, 'fail', `not created on the platform${s.lastError ? `: ${s.lastError}` : ''}`, {
        fix: RECREATE,
        details,
      }),
    );
  }
  if (s.status !== 'Active') {
    const data = (s.blacklistedData ?? {}) as { reason?: unknown; blacklistedAt?: unknown };
    const reason = typeof data.reason === 'string' ? `: ${data.reason}` : '';
    const since = typeof data.blacklistedAt === 'string' ? ` since ${data.blacklistedAt}` : '';
    return emit(
      result(check, 'fail', `${s.status}${since}${reason}; RingCentral delivers nothing to it`, {
        fix: `${RECREATE} (the platform does not reactivate it); then fill the gap with \`jobhook insights\``,
        details: { ...details, blacklistedData: s.blacklistedData },
      }),
    );
  }
  if (s.disabledFilters.length > 0) {
    const filters = s.disabledFilters.map((f) => {
      const { filter, reason } = (f ?? {}) as { filter?: unknown; reason?: unknown };
      return `${typeof filter === 'string' ? filter : '?'} (${typeof reason === 'string' ? reason : 'no reason given'})`;
    });
    return emit(
      result(check, 'fail', `disabled filters, no events for them: ${filters.join('; ')}`, {
        fix: 'ACE filters need the RingSense scope, the user permission ReadRingSenseInsights and an ACE license; fix those (see above), then subscribe again',
        details: { ...details, disabledFilters: s.disabledFilters },
      }),
    );
  }
  const expiresAtMs = s.expiresAt === null ? NaN : Date.parse(s.expiresAt);
  if (Number.isFinite(expiresAtMs) && expiresAtMs - nowMs < EXPIRY_MARGIN_MS) {
    const when =
      expiresAtMs <= nowMs
        ? `expired ${inWords(nowMs - expiresAtMs)} ago`
        : `expires in ${inWords(expiresAtMs - nowMs)}`;
    return emit(
      result(check, 'fail', `${when} (${s.expiresAt})`, {
        fix: 'a running serve/dev renews it (its keeper); an expired one must be created again (`jobhook subscribe`)',
        details,
      }),
    );
  }
  const expires = Number.isFinite(expiresAtMs) ? `, expires in ${inWords(expiresAtMs - nowMs)}` : '';
  const last = s.lastEventAt === null ? ', no event yet' : `, last event ${s.lastEventAt}`;
  emit(result(check, 'ok', `Active${expires}${last}`, { details }));
}

async function checkSubscriptions(store: SubscriptionStore, nowMs: number, emit: Emit): Promise<void> {
  const kept = await store.listSubscriptions();
  if (kept.length === 0) {
    return emit(
      result('subscriptions', 'info', 'none kept in this database (create one with `jobhook subscribe ace`)'),
    );
  }
  for (const s of kept) checkSubscription(s, nowMs, emit);
}

/** Opens the database serve uses, or says why not; null when there is none (doctor never creates one). */
async function openDatabase(config: Config, emit: Emit): Promise<Runtime | null> {
  if (config.database.kind === 'sqlite' && config.dbPath !== ':memory:' && !existsSync(config.dbPath)) return null;
  try {
    // Read-only intent: a PostgreSQL schema is not created (nor migrated) by doctor.
    const runtime = await openRuntime(Object.freeze({ ...config, databaseMustExist: true }));
    emit(result('database', 'ok', config.dbPath));
    return runtime;
  } catch (error) {
    if (!isJobhookError(error)) throw error;
    emit(
      result('database', 'fail', `${config.dbPath}: ${error.message}`, {
        fix: 'pass the --db serve uses, and check that the database is up',
        exit: EXIT.storeUnavailable,
      }),
    );
    return null;
  }
}

export async function doctorCommand(
  config: Config,
  args: string[],
  out: NodeJS.WritableStream,
  options: DoctorOptions = {},
): Promise<number> {
  if (args.length > 0) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `doctor takes no arguments (got ${args.join(' ')}); usage: jobhook doctor [--public-url <url>] [--db <path>] [--json]`,
    );
  }
  const results: CheckResult[] = [];
  const emit: Emit = (r) => {
    results.push(r);
    if (!config.json) out.write(formatCheck(r));
  };
  const limits = { ...DEFAULT_URL_LIMITS, ...options.limits };
  const platform = await checkPlatform(config, options.env ?? process.env, options.platformTimeoutMs ?? 15_000, emit);
  const runtime = await openDatabase(config, emit);
  try {
    await checkPublicUrl(config, runtime, platform, limits, emit);
    if (runtime) await checkSubscriptions(runtime.store, (options.now ?? Date.now)(), emit);
    else emit(result('subscriptions', 'skip', 'not checked: no database'));
  } finally {
    await runtime?.store.close();
  }
  if (config.json) out.write(`${JSON.stringify(jsonReport(results), null, 2)}\n`);
  else out.write(formatSummary(results));
  return doctorExitCode(results);
}
