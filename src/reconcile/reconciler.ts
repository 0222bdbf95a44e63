import type { Logger } from 'pino';
import { JOB_STATUS_PATH } from '../ringcentral/apis.js';
import { parseEnvelope } from '../ringcentral/envelope.js';
import type { PlatformAnswer } from '../ringcentral/platform.js';
import type { Store } from '../store/store.js';
import type { RequestRecord } from '../types.js';

/**
 * Reconciliation: a request with a jobId and no terminal delivery after `firstCheckAfterMs` is read back
 * through `GET /ai/status/v1/jobs/{jobId}`. A terminal envelope found there is stored as a delivery with
 * source `status-poll` (and settles the request like a webhook would); `InProgress` schedules the next
 * look with backoff (1 min doubling, at most `maxIntervalMs`); `404`, or `expirationTime` passed, makes the
 * request `expired`. Reads go through the caller's rate gate, within the Heavy budget.
 */
export interface ReconcilerOptions {
  store: Store;
  /** Reads a job's status (through the rate gate). */
  readStatus: (path: string) => Promise<PlatformAnswer>;
  /** @defaultValue 5 minutes */
  firstCheckAfterMs?: number;
  /** @defaultValue 30 minutes */
  maxIntervalMs?: number;
  logger?: Logger;
}

export interface ReconcileReport {
  checked: number;
  settled: number;
  expired: number;
  stillPending: number;
  errors: number;
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
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<ReconcileReport> | null = null;

  const nextCheck = (record: RequestRecord): number =>
    Date.now() + Math.min(maxIntervalMs, 60_000 * 2 ** record.checkCount);

  async function check(record: RequestRecord, report: ReconcileReport): Promise<void> {
    const answer = await options.readStatus(`${JOB_STATUS_PATH}${encodeURIComponent(record.jobId!)}`);
    report.checked++;
    if (answer.status === 404) {
      if (await store.markExpired(record.requestId)) report.expired++;
      return;
    }
    if (answer.status !== 200) {
      report.errors++;
      await store.scheduleCheck(record.requestId, nextCheck(record));
      return;
    }
    const parsed = parseEnvelope(answer.text);
    const status = parsed.ok ? parsed.envelope.status : null;
    if (status === 'Success' || status === 'Fail') {
      const headers: string[] = [];
      answer.headers.forEach((value, name) => headers.push(name, value));
      await store.recordDeliveries([
        {
          requestId: record.requestId,
          source: 'status-poll',
          body: Buffer.from(answer.text),
          rawHeaders: headers,
          receivedAtMs: Date.now(),
        },
      ]);
      const pass = await store.indexDeliveries(parseEnvelope);
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
    const report: ReconcileReport = { checked: 0, settled: 0, expired: 0, stillPending: 0, errors: 0 };
    for (const record of await store.listDueForCheck(Date.now(), olderThanMs, limit)) {
      try {
        await check(record, report);
      } catch (error) {
        report.errors++;
        logger?.warn({ err: error, requestId: record.requestId, jobId: record.jobId }, 'status check failed');
        await store.scheduleCheck(record.requestId, nextCheck(record)).catch(() => undefined);
      }
    }
    if (report.checked > 0) logger?.info(report, 'reconciled through the status endpoint');
    return report;
  }

  return {
    runOnce({ olderThanMs = firstCheckAfterMs, limit = 1000 } = {}) {
      running = pass(olderThanMs, limit).finally(() => (running = null));
      return running;
    },
    start(intervalMs = 30_000) {
      const tick = (): void => {
        timer = setTimeout(() => {
          if (running) return tick();
          void this.runOnce().finally(tick);
        }, intervalMs);
        timer.unref();
      };
      tick();
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running.catch(() => undefined);
    },
  };
}
