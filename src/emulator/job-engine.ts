import type { Logger } from 'pino';
import { ASYNC_APIS, type AsyncApiName } from '../ringcentral/apis.js';
import { computeOutcome, failure, type JobOutcome } from './job-results.js';
import type { EmulatorOptions, JobOverrides } from './options.js';
import { createRng, type Rng } from './rng.js';

/**
 * The emulator's jobs: each is InProgress until its latency has passed, then Success or Fail; its
 * envelope is then delivered to the webhook under the configured faults, and readable through the
 * status endpoint until it expires.
 *
 * Delivery per copy: attempt → exactly 200 ends it; any other answer, a network error or no answer
 * within the attempt timeout schedules a redelivery after `backoffMs`, doubling, up to `retries` times.
 */
export interface DeliveryAttempt {
  copy: number;
  attempt: number;
  at: string;
  status: number | null;
  error?: string;
}

export interface EmulatedJob {
  jobId: string;
  api: AsyncApiName;
  input: Record<string, unknown>;
  webhook: string | null;
  overrides: JobOverrides;
  createdAtMs: number;
  completedAtMs: number | null;
  outcome: JobOutcome | null;
  /** Decided at submit from the rates and overrides, so they are reproducible per seed. */
  plan: { fail: boolean; drop: boolean; copies: number; latencyMs: number; delayMs: number };
  attempts: DeliveryAttempt[];
}

export interface JobEngineOptions {
  options: EmulatorOptions;
  isEnrolledComplete: (speakerId: string) => boolean;
  logger?: Logger;
  /** Injected for tests. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class JobEngine {
  readonly #jobs = new Map<string, EmulatedJob>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #opts: JobEngineOptions;
  #rng: Rng;
  #counter = 0;
  /** Finished jobs held back to be delivered shuffled (reorder fault). */
  #reorderBuffer: EmulatedJob[] = [];

  constructor(opts: JobEngineOptions) {
    this.#opts = opts;
    this.#rng = createRng(opts.options.seed, 'engine');
  }

  get #options(): EmulatorOptions {
    return this.#opts.options;
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** A version-1-style UUID (the samples' jobId format), unique per job, derived from time and the seed. */
  #newJobId(nowMs: number): string {
    const ticks = BigInt(nowMs) * 10000n + 0x01b21dd213814000n + BigInt(this.#counter++ % 10000);
    const hex = ticks.toString(16).padStart(15, '0');
    const timeLow = hex.slice(-8);
    const timeMid = hex.slice(-12, -8);
    const timeHi = hex.slice(0, 3);
    const clock = (0x8000 | this.#rng.int(0x4000)).toString(16);
    const node = Array.from({ length: 6 }, () => this.#rng.int(256).toString(16).padStart(2, '0')).join('');
    return `${timeLow}-${timeMid}-1${timeHi}-${clock}-${node}`;
  }

  submit(
    api: AsyncApiName,
    input: Record<string, unknown>,
    webhook: string | null,
    overrides: JobOverrides,
  ): EmulatedJob {
    const o = this.#options;
    const now = Date.now();
    const rng = this.#rng;
    const duplicate = overrides.duplicate ?? (rng.next() < o.duplicateRate ? 2 + rng.int(2) : 1);
    const job: EmulatedJob = {
      jobId: this.#newJobId(now),
      api,
      input,
      webhook,
      overrides,
      createdAtMs: now,
      completedAtMs: null,
      outcome: null,
      plan: {
        fail: overrides.fail ?? rng.next() < o.failRate,
        drop: overrides.drop ?? rng.next() < o.dropRate,
        copies: duplicate,
        latencyMs: overrides.latencyMs ?? rng.between(o.latency.minMs, o.latency.maxMs),
        delayMs: overrides.delayMs ?? o.deliveryDelayMs,
      },
      attempts: [],
    };
    this.#jobs.set(job.jobId, job);
    this.#later(job.plan.latencyMs, () => this.complete(job.jobId));
    return job;
  }

  get(jobId: string): EmulatedJob | undefined {
    const job = this.#jobs.get(jobId);
    if (job && Date.now() - job.createdAtMs >= this.#options.expiryMs) return undefined;
    return job;
  }

  list(): EmulatedJob[] {
    return [...this.#jobs.values()];
  }

  /** The envelope as the status endpoint and the webhook show it. */
  envelope(job: EmulatedJob): Record<string, unknown> {
    const base = {
      jobId: job.jobId,
      api: ASYNC_APIS[job.api],
      creationTime: iso(job.createdAtMs),
      ...(job.completedAtMs === null ? {} : { completionTime: iso(job.completedAtMs) }),
      expirationTime: iso(job.createdAtMs + this.#options.expiryMs),
    };
    if (!job.outcome) return { ...base, status: 'InProgress' };
    return { ...base, status: job.outcome.status, response: job.outcome.response };
  }

  /** Finishes a job now (also the control API's force-complete); no-op when already finished. */
  complete(jobId: string): EmulatedJob | undefined {
    const job = this.#jobs.get(jobId);
    if (!job || job.outcome) return job;
    job.completedAtMs = Date.now();
    try {
      job.outcome = job.plan.fail
        ? failure('CAI-105', 'Media could not be processed: the content at contentUri is not decodable audio')
        : computeOutcome(job.api, job.input, {
            seed: this.#options.seed,
            durationS: job.overrides.durationS,
            isEnrolledComplete: this.#opts.isEnrolledComplete,
          });
    } catch (error) {
      job.outcome = failure('CAI-110', `Internal processing error: ${(error as Error).message}`);
    }
    if (job.webhook === null || job.plan.drop) {
      this.#opts.logger?.debug({ jobId, dropped: job.plan.drop }, 'result not delivered');
      return job;
    }
    if (this.#options.reorderWindowMs > 0) {
      if (this.#reorderBuffer.length === 0) this.#later(this.#options.reorderWindowMs, () => this.#flushReordered());
      this.#reorderBuffer.push(job);
    } else {
      this.#scheduleCopies(job);
    }
    return job;
  }

  #flushReordered(): void {
    const jobs = this.#reorderBuffer;
    this.#reorderBuffer = [];
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = this.#rng.int(i + 1);
      [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
    }
    for (const job of jobs) this.#scheduleCopies(job);
  }

  #scheduleCopies(job: EmulatedJob): void {
    for (let copy = 1; copy <= job.plan.copies; copy++) {
      this.#later(job.plan.delayMs + (copy - 1) * 20, () => void this.#attempt(job, copy, 0));
    }
  }

  /** Delivers the result again now, as a new copy (control API). */
  redeliver(jobId: string): boolean {
    const job = this.#jobs.get(jobId);
    if (!job?.outcome || job.webhook === null) return false;
    void this.#attempt(job, Math.max(0, ...job.attempts.map((a) => a.copy)) + 1, 0);
    return true;
  }

  async #attempt(job: EmulatedJob, copy: number, attempt: number): Promise<void> {
    const policy = this.#options.redelivery;
    const record: DeliveryAttempt = { copy, attempt, at: new Date().toISOString(), status: null };
    job.attempts.push(record);
    try {
      const response = await (this.#opts.fetch ?? fetch)(job.webhook!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'jobhook-emulator', rcrequestid: job.jobId },
        body: JSON.stringify(this.envelope(job)),
        redirect: 'manual',
        signal: AbortSignal.timeout(policy.attemptTimeoutMs),
      });
      record.status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      record.error = (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message;
    }
    if (record.status === 200) return;
    this.#opts.logger?.debug(
      { jobId: job.jobId, copy, attempt, status: record.status, error: record.error },
      'delivery failed',
    );
    if (attempt < policy.retries) {
      this.#later(policy.backoffMs * 2 ** attempt, () => void this.#attempt(job, copy, attempt + 1));
    }
  }

  reset(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#jobs.clear();
    this.#reorderBuffer = [];
    this.#rng = createRng(this.#options.seed, 'engine');
    this.#counter = 0;
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
