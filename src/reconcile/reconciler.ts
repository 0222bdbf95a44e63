import type { Logger } from 'pino';
import { JobhookError } from '../errors.js';
import { JOB_STATUS_PATH } from '../ringcentral/apis.js';
import { deliveryRules } from '../ringcentral/delivery-rules.js';
import { PlatformNetworkError, type PlatformAnswer } from '../ringcentral/platform.js';
import type { CheckQueue, IngestStore, RequestStore } from '../store/store.js';
import type { RequestRecord } from '../types.js';

/**
 * Reconciliation: a request with a jobId and no terminal delivery after `firstCheckAfterMs` is read back
 * through `GET /ai/status/v1/jobs/{jobId}`. A terminal envelope found there is stored as a delivery with
 * source `status-poll` (and settles the request like a webhook would); `InProgress` schedules the next
 * look with backoff (1 min doubling, at most `maxIntervalMs`); `404`, or `expirationTime` passed, makes the
 * request `expired`. Reads go through the caller's rate gate, within the Heavy budget.
 *
 * A pass checks every due request in turn: a read that fails, times out or answers oddly is logged, counted
 * in `errors` and scheduled again, and the pass goes on. Each read is also cut at `readTimeoutMs`, a
 * backstop for readers without a deadline of their own, so a stuck read cannot stop later passes.
 */
/**
 * How long a claimed status check stays this instance's: longer than a read (30 s) plus a rate-limit penalty
 * (60 s) with room to spare. Past it another instance may check the job again (a harmless second read).
 */
const CHECK_LEASE_MS = 5 * 60_000;

export interface ReconcilerOptions {
  /** Claims checks, records what it reads, and marks submissions of stopped processes. */
  store: CheckQueue &
    Pick<IngestStore, 'recordDeliveries' | 'indexDeliveries'> &
    Pick<RequestStore, 'markInterruptedSubmissions'>;
  /** Reads a job's status (through the rate gate). */
  readStatus: (path: string) => Promise<PlatformAnswer>;
  /** @defaultValue 5 minutes */
  firstCheckAfterMs?: number;
  /** @defaultValue 30 minutes */
  maxIntervalMs?: number;
  /** A read that has not settled by then counts as failed (the platform's own deadline is shorter). @defaultValue 120_000 */
  readTimeoutMs?: number;
  logger?: Logger;
}

export interface ReconcileReport {
  checked: number;
  settled: number;
  expired: number;
  stillPending: number;
  errors: number;
  /** Pending jobs not checked because their first (or next) look is not due yet. */
  notYetDue: number;
  /** When the earliest of those is due (ISO-8601), or null. */
  nextDueAt: string | null;
}

export interface Reconciler {
  /** One pass over the due requests; `olderThanMs` overrides the first-check delay (0 checks all pending). */
  runOnce(options?: { olderThanMs?: number; limit?: number }): Promise<ReconcileReport>;
  /** Runs a pass every `intervalMs` until `stop()`. */
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { store, logger } = options;
  const firstCheckAfterMs = options.firstCheckAfterMs ?? 5 * 60_000;
  const maxIntervalMs = options.maxIntervalMs ?? 30 * 60_000;
  const readTimeoutMs = options.readTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<ReconcileReport> | null = null;
  /** Set by stop(): the pass in progress starts no further read, and no pass follows (until start()/runOnce()). */
  let stopped = false;

  /** How long until the next look at a job still pending (doubling from a minute, capped). */
  const nextCheck = (record: RequestRecord): number => Math.min(maxIntervalMs, 60_000 * 2 ** record.checkCount);

  async function readStatus(path: string): Promise<PlatformAnswer> {
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new JobhookError('JH_ERR_TIMEOUT', `status read unanswered after ${readTimeoutMs} ms`)),
        readTimeoutMs,
      );
    });
    try {
      return await Promise.race([options.readStatus(path), cut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function check(record: RequestRecord, report: ReconcileReport): Promise<void> {
    const answer = await readStatus(`${JOB_STATUS_PATH}${encodeURIComponent(record.jobId!)}`);
    report.checked++;
    if (answer.status === 404) {
      if (await store.markExpired(record.requestId)) report.expired++;
      return;
    }
    if (answer.status !== 200) {
      report.errors++;
      logger?.warn({ requestId: record.requestId, jobId: record.jobId, status: answer.status }, 'status read refused');
      await store.scheduleCheck(record.requestId, nextCheck(record));
      return;
    }
    const parsed = deliveryRules.parse(answer.body, record.kind);
    if (parsed.ok && deliveryRules.settlementOf(parsed.envelope) !== null) {
      const headers: string[] = [];
      answer.headers.forEach((value, name) => headers.push(name, value));
      await store.recordDeliveries([
        {
          requestId: record.requestId,
          source: 'status-poll',
          body: answer.body, // the exact bytes read, whatever their size
          rawHeaders: headers,
          receivedAtMs: Date.now(),
        },
      ]);
      const pass = await store.indexDeliveries(deliveryRules);
      report.settled += pass.settled.filter((e) => e.requestId === record.requestId).length;
      return;
    }
    const expiresAt = parsed.ok && parsed.envelope.expirationTime ? Date.parse(parsed.envelope.expirationTime) : NaN;
    if (expiresAt <= Date.now()) {
      if (await store.markExpired(record.requestId)) report.expired++;
      return;
    }
    report.stillPending++;
    await store.scheduleCheck(record.requestId, nextCheck(record));
  }

  async function pass(olderThanMs: number, limit: number): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      checked: 0,
      settled: 0,
      expired: 0,
      stillPending: 0,
      errors: 0,
      notYetDue: 0,
      nextDueAt: null,
    };
    // Submissions left in flight by an instance that died since (a fleet's serve runs for weeks; marking at
    // start-up alone would leave them `submitting` for ever). Never another live process's.
    const interrupted = await store.markInterruptedSubmissions();
    if (interrupted.length > 0) {
      logger?.warn(
        { requestIds: interrupted },
        'submissions of a stopped process are marked unknown; a webhook or a status read may still settle them',
      );
    }
    // One claim at a time, just before its read: a claim covers one check (a rate-limit wait included), and
    // whatever this pass does not reach stays free for another instance.
    for (let n = 0; n < limit && !stopped; n++) {
      const [record] = await store.claimDueChecks(olderThanMs, CHECK_LEASE_MS, 1);
      if (!record) break;
      try {
        await check(record, report);
      } catch (error) {
        // No login means no read can succeed: end the pass and say why (the CLI prints it) instead of
        // failing every job in turn, each after the platform's login retries.
        if (error instanceof PlatformNetworkError && error.duringLogin) throw error;
        report.errors++;
        logger?.warn({ err: error, requestId: record.requestId, jobId: record.jobId }, 'status check failed');
        await store.scheduleCheck(record.requestId, nextCheck(record)).catch(() => undefined);
      }
    }
    if (report.checked > 0) logger?.info(report, 'reconciled through the status endpoint');
    // Said, not silent: a pass right after submitting checks nothing, and the user should know why.
    const notDue = await store.countNotYetDue(olderThanMs);
    report.notYetDue = notDue.count;
    report.nextDueAt = notDue.nextDueAtMs === null ? null : new Date(notDue.nextDueAtMs).toISOString();
    return report;
  }

  return {
    runOnce({ olderThanMs = firstCheckAfterMs, limit = 1000 } = {}) {
      stopped = false;
      running = pass(olderThanMs, limit).finally(() => (running = null));
      return running;
    },
    start(intervalMs = 30_000) {
      stopped = false;
      const tick = (): void => {
        timer = setTimeout(() => {
          if (stopped) return;
          if (running) return tick();
          this.runOnce()
            .catch((error: unknown) => logger?.warn({ err: error }, 'reconciliation pass failed; next pass as usual'))
            .finally(() => {
              if (!stopped) tick();
            });
        }, intervalMs);
        timer.unref();
      };
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running.catch(() => undefined);
    },
  };
}
