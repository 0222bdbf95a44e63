import type { Logger } from 'pino';
import { newRequestId } from '../callback/request-id.js';
import { ApiRejectedError, JobhookError } from '../errors.js';
import {
  aceRecordInsightsPath,
  parseAceEvent,
  parseAceInsights,
  type AceRecordingInsights,
} from '../ringcentral/ace.js';
import type { Platform } from '../ringcentral/platform.js';
import { lightKeyFor, rateBudgetKey } from '../ringcentral/rate-budget-key.js';
import type {
  IngestStore,
  RateBudget,
  RequestStore,
  SettingsStore,
  StoreReader,
  SubscriptionStore,
} from '../store/store.js';
import type { DeliveryRules, InsightsKey } from '../types.js';
import { budgetedGet, rejection, type ReadBudget, type ReadOptions } from './backfill-reads.js';
import { listRecordedCalls } from './call-log.js';

/**
 * Backfill: ACE insights missed while the receiver was down or the subscription blacklisted, read back
 * through ACE's REST endpoints (reference §12.1) and stored by the same path as a webhook's: the answer's
 * exact bytes become a delivery of a subscription request (source `status-poll`), and the indexer upserts
 * the insight record from it (newest `lastModifiedTime` wins), so handlers, `insights()` waiters and the
 * inspector see a backfilled record as they see a pushed one.
 *
 * Ids: only RingEX voice (`pbx`) records can be found for a time window, through the call log (recording
 * id = `sourceRecordId`). `rcv` meeting ids come from the meeting-history API, not read here; `rcx`,
 * `ms-teams` and `nice-incontact` ids are exposed by no API at all. Any record whose id the user knows
 * can be read back by `backfillRecord`.
 */
export type BackfillStore = IngestStore &
  SettingsStore &
  Pick<RequestStore, 'createRequest'> &
  RateBudget &
  Pick<SubscriptionStore, 'listSubscriptions'> &
  Pick<StoreReader, 'findInsights'>;

export interface BackfillBudget {
  /** The app and user's Heavy key (`rateBudgetKey(credentials)`); the Light key derives from it. @defaultValue `rateBudgetKey()` */
  key?: string;
  /** ACE reads: the Light group. @defaultValue 50 per 60 s */
  light?: { capacity: number; windowMs: number };
  /** Call-log reads: the Heavy group, shared with job submissions, of which they leave 30 %. @defaultValue 10 per 60 s */
  heavy?: { capacity: number; windowMs: number };
}

export interface BackfillCommon {
  platform: Platform;
  store: BackfillStore;
  /** The shared rate budget; null: none (a local emulator that states no limit). @defaultValue RingCentral's defaults */
  budget?: BackfillBudget | null;
  /** Retries of one read after a 429 or a 5xx. */
  read?: Omit<ReadOptions, 'logger' | 'signal'>;
  /**
   * Runs the indexer over what was stored, until nothing is left to index: for a process where no receiver
   * indexes (the CLI). serve/dev index continuously and leave it unset.
   */
  index?: DeliveryRules;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface BackfillRecordOptions extends BackfillCommon, InsightsKey {}

export interface BackfilledRecord {
  requestId: string;
  deliveryId: number;
  insights: AceRecordingInsights;
}

/** The setting holding the request backfilled records are stored under when no subscription covers their domain. */
export const BACKFILL_REQUEST_SETTING = 'backfill_request_id';
/** A record stored by webhook this long before a window is taken as final (its AI Notes gap is minutes). */
const FINAL_AFTER_MS = 3600_000;
const DEFAULT_LIGHT = { capacity: 50, windowMs: 60_000 };
const DEFAULT_HEAVY = { capacity: 10, windowMs: 60_000 };
const PROGRESS_EVERY = 25;

export function lightBudget(store: RateBudget, budget: BackfillBudget | null | undefined): ReadBudget | null {
  if (budget === null) return null;
  return { store, key: lightKeyFor(budget?.key ?? rateBudgetKey()), limits: { ...DEFAULT_LIGHT, ...budget?.light } };
}

function heavyBudget(store: RateBudget, budget: BackfillBudget | null | undefined): ReadBudget | null {
  if (budget === null) return null;
  const limits = { ...DEFAULT_HEAVY, ...budget?.heavy };
  // Low priority, as reconciliation's status reads: submissions keep 30 % of the window.
  const reserve = limits.capacity > 1 ? Math.max(1, Math.floor((limits.capacity * 3) / 10)) : 0;
  return { store, key: budget?.key ?? rateBudgetKey(), limits: { ...limits, reserve } };
}

/**
 * The request a backfilled record of `domain` is stored under: that of a kept subscription whose filters
 * take the domain's ACE events (its records then show beside the pushed ones), else one request per store
 * made on first use. Two processes doing so at once may make two; both work.
 */
export async function backfillRequestId(store: BackfillStore, domain: string): Promise<string> {
  const subscriptions = await store.listSubscriptions();
  const covering = subscriptions.find((s) => s.eventFilters.some((f) => parseAceEvent(f)?.domain === domain));
  if (covering) return covering.requestId;
  const kept = await store.getSetting(BACKFILL_REQUEST_SETTING);
  if (kept) return kept;
  const requestId = newRequestId();
  await store.createRequest({ requestId, kind: 'subscription', callbackUrl: 'backfill' });
  await store.putSetting(BACKFILL_REQUEST_SETTING, requestId);
  return requestId;
}

/** Indexes until nothing is left (a spooled body blocking a pass is the receiver's to parse). */
async function indexAll(store: IngestStore, rules: DeliveryRules): Promise<void> {
  for (let pass; !pass || (pass.examined > 0 && !pass.blocked);) pass = await store.indexDeliveries(rules);
}

/**
 * Reads one record's insights back (`GET …/records/{sourceRecordId}/insights`, a Light read) and stores
 * the answer's bytes. Null when the platform has none (404: not ready yet, or an unknown id); a refusal
 * throws `ApiRejectedError`, a read that kept answering 429/5xx JH_ERR_PLATFORM_UNREACHABLE.
 *
 * @example
 * const stored = await backfillRecord({ platform, store, domain: 'pbx', sourceRecordId: '2728084995017' });
 */
export function backfillRecord(options: BackfillRecordOptions): Promise<BackfilledRecord | null> {
  return readRecord(options, lightBudget(options.store, options.budget));
}

/** `backfillRecord` with its Light budget made by the caller: a window's reads share one (and what it learns). */
async function readRecord(options: BackfillRecordOptions, light: ReadBudget | null): Promise<BackfilledRecord | null> {
  const { platform, store, domain, sourceRecordId, logger } = options;
  const path = aceRecordInsightsPath(domain, sourceRecordId);
  const answer = await budgetedGet(platform, path, light, {
    ...options.read,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(logger ? { logger } : {}),
  });
  if (answer.status === 404) {
    logger?.debug({ domain, sourceRecordId }, 'no ACE insights for this record yet (404)');
    return null;
  }
  if (answer.status !== 200) throw rejection(answer);
  let insights: AceRecordingInsights;
  try {
    insights = parseAceInsights(JSON.parse(answer.text));
  } catch (error) {
    throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `GET ${path} answered 200 without RecordingInsights`, {
      cause: error,
    });
  }
  if (insights.domain !== domain || insights.sourceRecordId !== sourceRecordId) {
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `GET ${path} answered the insights of ${insights.domain} ${insights.sourceRecordId}; not stored`,
    );
  }
  const requestId = await backfillRequestId(store, domain);
  const [recorded] = await store.recordDeliveries([
    {
      requestId,
      source: 'status-poll',
      body: answer.body,
      rawHeaders: ['content-type', 'application/json'],
      receivedAtMs: Date.now(),
    },
  ]);
  if (options.index) await indexAll(store, options.index);
  logger?.info({ domain, sourceRecordId, requestId }, 'ACE insights read back through REST and stored');
  return { requestId, deliveryId: recorded!.deliveryId, insights };
}

export interface BackfillWindowOptions extends BackfillCommon {
  /** Domains to fill in; those whose ids no API lists are reported in `notBackfillable`. */
  domains: readonly string[];
  /** The outage: when events stopped arriving, and until when. */
  fromMs: number;
  toMs: number;
  /**
   * How much earlier than `fromMs` a call may have started and still have its insights land in the
   * window: insights come minutes to tens of minutes after a call ends (§11.5), and the call log filters
   * by start time. Records already stored cost no ACE read. @defaultValue 2 hours
   */
  lookbackMs?: number;
}

export interface BackfillReport {
  /** Recordings the call log listed for the window. */
  records: number;
  /** Read back through REST and stored now. */
  stored: number;
  /** Read back already (an earlier backfill), or stored by webhook after the window: not read again. */
  alreadyStored: number;
  /** The platform has no insights for them yet (404): their events may still come. */
  notReady: number;
  /** Reads that failed (kept answering 429/5xx, or refused); the next backfill tries again. */
  failed: number;
  /** Domains asked for whose records no API lists: reachable only through events or `backfillRecord`. */
  notBackfillable: string[];
}

/**
 * Fills in the window's records: for `pbx`, every recorded call of the call log, one Light read each, in
 * turn — also those stored by webhook before the window ended: a call with AI Notes sends a first version
 * and a fuller one (reference §11.4), and the fuller one may be what the outage missed. Reading a
 * version the store has changes nothing (it is folded, no new handler run). Other domains cannot be listed (see the module comment): they
 * are logged once and reported. A refusal of the reads themselves (401/403: credentials or permission)
 * ends the backfill with its error; any other failure of one record is counted and the next one read.
 *
 * @example
 * const report = await backfillWindow({ platform, store, domains: ['pbx'], fromMs: outageStart, toMs: Date.now() });
 */
export async function backfillWindow(options: BackfillWindowOptions): Promise<BackfillReport> {
  const { platform, store, logger } = options;
  const report: BackfillReport = {
    records: 0,
    stored: 0,
    alreadyStored: 0,
    notReady: 0,
    failed: 0,
    notBackfillable: [],
  };
  report.notBackfillable = [...new Set(options.domains.filter((d) => d !== 'pbx'))];
  if (report.notBackfillable.length > 0) {
    logger?.warn(
      { domains: report.notBackfillable },
      'no API lists the record ids of these ACE domains for a time window (rcv: meeting history not read); ' +
        'their missed records can only be read back by id (jobhook insights <domain> <sourceRecordId>)',
    );
  }
  if (!options.domains.includes('pbx')) return report;
  const calls = await listRecordedCalls({
    platform,
    fromMs: options.fromMs - (options.lookbackMs ?? 2 * 3600_000),
    toMs: options.toMs,
    budget: heavyBudget(store, options.budget),
    read: { ...options.read, ...(options.signal ? { signal: options.signal } : {}), ...(logger ? { logger } : {}) },
    ...(logger ? { logger } : {}),
  });
  report.records = calls.length;
  const light = lightBudget(store, options.budget);
  let done = 0;
  for (const call of calls) {
    done++;
    const key = { domain: 'pbx', sourceRecordId: call.recordingId };
    const kept = await store.findInsights(key);
    // A version read back through REST is the newest the platform had then; one that came by webhook may
    // be the first of two (AI Notes, minutes apart), unless it came after the window or an hour before it.
    const keptAtMs = kept ? Date.parse(kept.updatedAt) : NaN;
    if (
      kept &&
      (kept.source === 'status-poll' || keptAtMs >= options.toMs || keptAtMs < options.fromMs - FINAL_AFTER_MS)
    ) {
      report.alreadyStored++;
      continue;
    }
    try {
      const stored = await readRecord({ ...options, ...key, index: undefined }, light);
      if (stored) report.stored++;
      else report.notReady++;
    } catch (error) {
      if (error instanceof ApiRejectedError && (error.status === 401 || error.status === 403)) throw error;
      if (options.signal?.aborted) throw error;
      report.failed++;
      logger?.warn({ err: error, ...key }, 'backfill of one record failed; the next backfill tries it again');
    }
    // Every read is a line at debug; a long window says where it is at info now and then.
    const level = done === calls.length || done % PROGRESS_EVERY === 0 ? 'info' : 'debug';
    logger?.[level]({ done, of: calls.length, stored: report.stored }, `backfill: ${done} of ${calls.length}`);
  }
  if (options.index && report.stored > 0) await indexAll(store, options.index);
  return report;
}
