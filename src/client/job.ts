import { isJobhookError, JobFailedError, JobhookError } from '../errors.js';
import { readOutcome } from '../store/outcome.js';
import type { Store } from '../store/store.js';
import type { RequestRecord } from '../types.js';
import type { Waiters } from './waiters.js';

export interface ResultOptions {
  /** Give up waiting after this long (the job goes on; a later `result()` still resolves). No limit when omitted. */
  timeoutMs?: number;
  /**
   * Stops waiting when aborted: `result()` rejects with the signal's reason (the job goes on; a later
   * `result()` still resolves). A CLI's Ctrl-C, a request handler's client going away.
   * @defaultValue undefined
   */
  signal?: AbortSignal;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('stopped waiting: aborted');
}

/**
 * A handle on one submitted job, valid across restarts: everything it knows comes from the store.
 *
 * @example
 * const job = await jobhook.speechToText({ contentUri, encoding: 'Mpeg' });
 * const { transcript } = await job.result({ timeoutMs: 10 * 60_000 });
 */
export class Job<TResult = unknown> {
  readonly requestId: string;
  readonly jobId: string | null;
  readonly api: string | null;
  readonly #store: Store;
  readonly #waiters: Waiters;

  constructor(record: RequestRecord, store: Store, waiters: Waiters) {
    this.requestId = record.requestId;
    this.jobId = record.jobId;
    this.api = record.api;
    this.#store = store;
    this.#waiters = waiters;
  }

  /** The request as stored now (state, jobId, delivery count, submission state). */
  async record(): Promise<RequestRecord> {
    return (await this.#store.findRequest(this.requestId))!;
  }

  /**
   * Resolves with the `response` of the first `Success` envelope; rejects with `JobFailedError` on `Fail`,
   * `JH_ERR_JOB_EXPIRED` when the job can no longer be read back, `JH_ERR_TIMEOUT` after `timeoutMs`.
   * The waiter is registered before the store is read, so a result landing meanwhile is not missed.
   */
  result(options: ResultOptions = {}): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      let finished = false;
      /** A re-read after the database did not answer; doubles from 1 s to 30 s while it stays away. */
      let retry: NodeJS.Timeout | null = null;
      let retryMs = 1000;
      const finish = (settle: () => void): void => {
        if (finished) return;
        finished = true;
        stopWaiting();
        if (timer) clearTimeout(timer);
        if (retry) clearTimeout(retry);
        options.signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const onAbort = (): void => finish(() => reject(abortReason(options.signal!)));
      const check = (): void => {
        this.#outcome().then(
          (outcome) => {
            if (outcome) finish(() => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)));
          },
          (error: unknown) => {
            // The database is away for a while (PostgreSQL restarting, a busy pool): keep waiting, and read
            // again later — the hint that woke this check is spent, and no other may come for this request.
            if (isJobhookError(error, 'JH_ERR_STORE_UNAVAILABLE')) {
              if (!finished && !retry) {
                retry = setTimeout(() => {
                  retry = null;
                  check();
                }, retryMs);
                retryMs = Math.min(30_000, retryMs * 2);
              }
              return;
            }
            finish(() => reject(error instanceof Error ? error : new Error(String(error))));
          },
        );
      };
      const stopWaiting = this.#waiters.add(this.requestId, check);
      const timer =
        options.timeoutMs === undefined
          ? null
          : setTimeout(
              () =>
                finish(() =>
                  reject(
                    new JobhookError(
                      'JH_ERR_TIMEOUT',
                      `no result for request ${this.requestId} within ${options.timeoutMs} ms; the job goes on`,
                    ),
                  ),
                ),
              options.timeoutMs,
            );
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /** The settled outcome from the store, or null while pending. */
  async #outcome(): Promise<{ ok: true; value: TResult } | { ok: false; error: Error } | null> {
    const record = await this.#store.findRequest(this.requestId);
    if (!record) return { ok: false, error: new JobhookError('JH_ERR_NOT_FOUND', `no request ${this.requestId}`) };
    if (record.state === 'pending') return null;
    if (record.state === 'expired') {
      return {
        ok: false,
        error: new JobhookError('JH_ERR_JOB_EXPIRED', `job of request ${this.requestId} expired without a result`),
      };
    }
    const { envelope } = (await readOutcome(this.#store, record))!;
    if (record.state === 'failed') return { ok: false, error: new JobFailedError(this.requestId, envelope) };
    return { ok: true, value: envelope.response as TResult };
  }
}
