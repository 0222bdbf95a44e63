import type { Logger } from 'pino';
import { createKeyring, generateSecret, normalizePathPrefix, type Keyring } from '../callback/callback-url.js';
import { ApiRejectedError, JobhookError } from '../errors.js';
import { createReconciler, type ReconcileReport, type Reconciler } from '../reconcile/reconciler.js';
import { ASYNC_APIS, resolveAsyncApi, type AsyncApiRef } from '../ringcentral/apis.js';
import {
  createPlatform,
  PlatformNetworkError,
  type Platform,
  type PlatformAnswer,
  type PlatformCredentials,
  type PlatformOptions,
} from '../ringcentral/platform.js';
import type * as S from '../ringcentral/schemas.js';
import type { Store } from '../store/store.js';
import { HandlerRunner, type HandlerRunnerOptions, type ResultHandler } from '../handlers/handler-runner.js';
import { Job } from './job.js';
import { notificationHandlers, type NotificationHandlers } from './notifications-api.js';
import { createMinter, type Mint } from './minter.js';
import { RateBudgetUnavailableError, RateGate, rateBudgetKey, type RateGateOptions } from './rate-gate.js';
import type { InputOf, ResultOf, TypedHandlerInput } from './typed-api.js';
import { Waiters } from './waiters.js';

export interface JobhookOptions {
  store: Store;
  /** Base URL at which RingCentral reaches your receiver (`jobhook serve`), e.g. a tunnel's URL. */
  publicUrl: string;
  /** @defaultValue '/webhooks' */
  pathPrefix?: string;
  /** The callback keyring, when the caller already loaded it; read from the store otherwise. */
  keyring?: Keyring;
  /**
   * Platform credentials, all four fields, required unless `platform` is given. The library reads no
   * environment variables: the CLI reads RC_SERVER_URL, RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET, RC_USER_JWT.
   * @defaultValue undefined
   */
  ringcentral?: PlatformCredentials;
  /** A ready platform (tests, or a custom SDK setup); replaces `ringcentral`. */
  platform?: Platform;
  /** Timeouts and login retries of the platform made from `ringcentral` (see `PlatformOptions`). @defaultValue 30 s per call, 3 login attempts */
  platformOptions?: PlatformOptions;
  /** Bounds of the rate gate's holds after 429 / an exhausted window. @defaultValue 1 s to 10 minutes */
  rateLimit?: Pick<RateGateOptions, 'minWaitMs' | 'maxWaitMs'>;
  /**
   * The Heavy group's budget (AI submissions and status reads), shared through the store by every process
   * of one RingCentral app and user: raise it if your account's limit was raised. The platform's own
   * `X-Rate-Limit-Limit`/`-Window`, once seen, take precedence. `key` names the budget when `platform`
   * replaces `ringcentral` (not a secret: it is stored as given); see `rateBudgetKey` otherwise.
   * @defaultValue `{ capacity: 10, windowMs: 60_000 }` (RingCentral's Heavy default)
   */
  rateBudget?: { capacity?: number; windowMs?: number; key?: string };
  /** Submission retries on 5xx, 429 and network errors. @defaultValue 5 */
  maxSubmitAttempts?: number;
  /** First retry delay, doubled per attempt, with ±50 % jitter. @defaultValue 2000 */
  retryBaseMs?: number;
  /** Calls in flight at once within the Heavy group. @defaultValue 2 */
  maxInFlight?: number;
  /** Reconciliation's first look at a job without a result. @defaultValue 5 minutes */
  reconcileAfterMs?: number;
  /** Handler queue settings (attempts, backoff, lease, poll interval). */
  handlers?: Omit<HandlerRunnerOptions, 'store' | 'logger'>;
  logger?: Logger;
}

export interface Jobhook extends NotificationHandlers {
  speechToText(input: S.SpeechToTextInput): Promise<Job<S.SpeechToTextResult>>;
  speakerDiarize(input: S.AudioInput): Promise<Job<S.SpeakerDiarizeResult>>;
  speakerIdentify(input: S.SpeakerIdentifyInput): Promise<Job<S.SpeakerIdentifyResult>>;
  analyzeInteraction(input: S.AnalyzeInteractionInput): Promise<Job<S.AnalyzeInteractionResult>>;
  punctuate(input: S.PunctuateInput): Promise<Job<S.PunctuateResult>>;
  summarize(input: S.SummarizeInput): Promise<Job<S.SummarizeResult>>;
  recognizeEmotion(input: S.AudioInput): Promise<Job<S.RecognizeEmotionResult>>;
  /**
   * Any async endpoint by method name (`speechToText`), dashed name (`speech-to-text`) or path
   * (`/ai/audio/v1/async/speech-to-text`), typed for the known ones. Against the emulator a path may carry
   * `?_emulator=<faults>` (e.g. `?_emulator=fail`), passed on as that query parameter.
   */
  submit<R extends AsyncApiRef>(api: R, body: InputOf<R>): Promise<Job<ResultOf<R>>>;
  submit<T = unknown>(api: string, body: unknown): Promise<Job<T>>;
  /** The handle of an earlier job, by request ID or jobId (after a restart too). */
  job<T = unknown>(requestIdOrJobId: string): Promise<Job<T>>;
  /**
   * Registers a result handler for one API (`speechToText`, `speech-to-text`, a path) or `'*'`, run at least once per
   * terminal result from the store's durable queue, with retries and a dead-letter state. Give a stable
   * `name` when registering several handlers; runs are kept per name.
   */
  on<R extends AsyncApiRef>(
    api: R,
    handler: (input: TypedHandlerInput<ResultOf<R>>) => unknown,
    options?: { name?: string },
  ): Promise<void>;
  on(api: string, handler: ResultHandler, options?: { name?: string }): Promise<void>;
  /** Makes a request's dead-lettered handler runs pending again; returns how many. */
  retry(requestIdOrJobId: string): Promise<number>;
  /** One reconciliation pass (see `createReconciler`). */
  reconcile(options?: { olderThanMs?: number }): Promise<ReconcileReport>;
  readonly reconciler: Reconciler;
  /** Calls waiting for the rate gate, and in flight. */
  readonly stats: { queued: number; inFlight: number; waiting: number };
  /** Revokes the platform session. Leaves the store open (it is yours). */
  close(): Promise<void>;
}

/**
 * Why `jwt` is not shaped like a JWT (three base64url parts, the signature may be empty), or null.
 * Checked before any network call: the platform would answer a malformed one with a confusing 400.
 */
export function jwtShapeProblem(jwt: string): string | null {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3) return `expected three base64url parts separated by dots, found ${parts.length}`;
  if (!parts[0] || !parts[1] || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    return 'expected three base64url parts separated by dots (A-Z, a-z, 0-9, - and _ only)';
  }
  return null;
}

/** The explicit credentials, complete and well-formed, or JH_ERR_INVALID_CONFIG naming what is wrong. */
function credentialsFrom(given: Partial<PlatformCredentials> | undefined): PlatformCredentials {
  const fields = ['server', 'clientId', 'clientSecret', 'jwt'] as const;
  const missing = fields.filter((field) => !given?.[field]);
  if (missing.length > 0) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `RingCentral credentials missing: ${missing.map((f) => `ringcentral.${f}`).join(', ')} (or pass \`platform\`)`,
    );
  }
  const problem = jwtShapeProblem(given!.jwt!);
  if (problem) throw new JobhookError('JH_ERR_INVALID_CONFIG', `ringcentral.jwt is not a JWT: ${problem}`);
  return given as PlatformCredentials;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The `jobId` of a 2xx submit answer; null when the body is not JSON or has none. */
function jobIdOf(text: string): string | null {
  try {
    const jobId = (JSON.parse(text) as { jobId?: unknown } | null)?.jobId;
    return typeof jobId === 'string' && jobId !== '' ? jobId : null;
  } catch {
    return null;
  }
}

/**
 * The client: typed submissions with minted callback URLs, and `Job` handles whose `result()` resolves
 * from the store however the result arrived (webhook, duplicate, status endpoint).
 *
 * @example
 * const jobhook = await createJobhook({ store, publicUrl: 'https://abc.ngrok.app' });
 * const job = await jobhook.speechToText({ contentUri: 'https://example.com/call.mp3', encoding: 'Mpeg' });
 * console.log((await job.result({ timeoutMs: 15 * 60_000 })).transcript);
 */
export async function createJobhook(options: JobhookOptions): Promise<Jobhook> {
  const { store, logger } = options;
  const keyring: Keyring = options.keyring ?? createKeyring(await store.ensureSecrets(generateSecret));
  const mint: Mint = createMinter({
    store,
    keyring,
    publicUrl: options.publicUrl,
    pathPrefix: normalizePathPrefix(options.pathPrefix ?? '/webhooks'),
  });
  const platform = options.platform ?? createPlatform(credentialsFrom(options.ringcentral), options.platformOptions);
  const { key = rateBudgetKey(options.ringcentral), ...limits } = options.rateBudget ?? {};
  const budget = { store, key, limits };
  const gate = new RateGate({
    ...options.rateLimit,
    maxInFlight: options.maxInFlight,
    budget,
    // Logged in, and no token refresh due, before a grant is taken: the request leaves as soon as granted.
    prepare: platform.ready?.bind(platform),
    logger,
  });
  const waiters = new Waiters(store);
  const maxAttempts = options.maxSubmitAttempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 2000;
  const runner = new HandlerRunner({ store, logger, ...options.handlers });
  const reconciler = createReconciler({
    store,
    // Status reads take only what submissions leave of the budget.
    readStatus: (path) => gate.run(() => platform.get(path), { low: true }),
    firstCheckAfterMs: options.reconcileAfterMs,
    logger,
  });

  // A process that stopped mid-submission cannot know whether its POST was accepted: never resubmit.
  const interrupted = await store.markInterruptedSubmissions();
  if (interrupted.length > 0) {
    logger?.warn(
      { requestIds: interrupted },
      'submissions interrupted by a stop are marked unknown; a webhook may still settle them',
    );
  }

  /**
   * POSTs until a 2xx, a refusal, or the attempts run out; returns the status and the jobId (null when a
   * 2xx carried none: it was accepted all the same). 429 waits do not count as attempts.
   */
  async function post(
    apiPath: string,
    body: unknown,
    callbackUrl: string,
    requestId: string,
    emulatorFaults: string | null,
  ): Promise<{ status: number; jobId: string | null }> {
    const query: Record<string, string> = { webhook: callbackUrl };
    if (emulatorFaults !== null) query._emulator = emulatorFaults;
    let attempt = 0;
    let lastProblem = '';
    for (;;) {
      let answer: PlatformAnswer | null = null;
      let budgetDown = false;
      try {
        answer = await gate.run(() => platform.post(apiPath, body, query));
      } catch (error) {
        // A login that failed was already retried with backoff by the platform. A POST that may have
        // arrived (a timeout or a reset after sending cannot tell) is never sent again: a second job
        // would run and bill twice; submit() marks it unknown for a webhook to settle.
        if (error instanceof PlatformNetworkError && (error.duringLogin || error.mayHaveReachedPlatform)) throw error;
        // Nothing was sent: no connection, or the budget's store failed (the gate logs that once).
        if (!(error instanceof PlatformNetworkError || error instanceof RateBudgetUnavailableError)) throw error;
        budgetDown = error instanceof RateBudgetUnavailableError;
        lastProblem = error.message;
      }
      if (answer && answer.status >= 200 && answer.status < 300) {
        // The status decides acceptance; the body only tells the jobId, when it can.
        return { status: answer.status, jobId: jobIdOf(answer.text) };
      }
      if (answer && answer.status !== 429 && answer.status < 500) {
        let parsed: unknown = answer.text;
        try {
          parsed = JSON.parse(answer.text);
        } catch {
          // keep the text
        }
        throw new ApiRejectedError(answer.status, parsed);
      }
      if (answer?.status === 429) {
        logger?.info({ requestId, retryAt: new Date(gate.blockedUntilMs).toISOString() }, 'rate limited; waiting');
        continue; // the gate holds the next try back for Retry-After, at least its floor
      }
      if (answer) lastProblem = `HTTP ${answer.status}`;
      if (++attempt >= maxAttempts) {
        throw new JobhookError('JH_ERR_SUBMIT_FAILED', `no 202 after ${attempt} attempts (${lastProblem})`);
      }
      const delay = retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      const retrying = { requestId, attempt, problem: lastProblem, retryInMs: Math.round(delay) };
      if (!budgetDown) logger?.warn(retrying, 'submission failed; retrying');
      await sleep(delay);
    }
  }

  async function submit<T>(api: string, body: unknown): Promise<Job<T>> {
    // The request records the bare path, so handlers registered under any spelling match it.
    const { path: apiPath, emulatorFaults } = resolveAsyncApi(api);
    const { requestId, callbackUrl } = await mint({ api: apiPath, requestBody: JSON.stringify(body) });
    await store.updateSubmission(requestId, { state: 'submitting' });
    let accepted: { status: number; jobId: string | null };
    try {
      accepted = await post(apiPath, body, callbackUrl, requestId, emulatorFaults);
    } catch (error) {
      if (error instanceof PlatformNetworkError && error.mayHaveReachedPlatform && !error.duringLogin) {
        const unknown = new PlatformNetworkError(
          `${error.message}; the POST may have reached it, so request ${requestId} is marked unknown and not resubmitted (a webhook still settles it)`,
          { cause: error.cause, mayHaveReachedPlatform: true, duringLogin: false },
        );
        await store.updateSubmission(requestId, { state: 'unknown', error: unknown.message });
        logger?.warn({ requestId, api: apiPath, err: error }, 'submission outcome unknown; not resubmitted');
        throw unknown;
      }
      await store.updateSubmission(requestId, { state: 'rejected', error: (error as Error).message });
      throw error;
    }
    if (accepted.jobId === null) {
      const note = `accepted (HTTP ${accepted.status}) but the answer carried no readable jobId; reconciliation cannot find this job; a webhook still settles it`;
      await store.updateSubmission(requestId, { state: 'accepted', error: note });
      logger?.warn({ requestId, api: apiPath }, note);
    } else {
      await store.updateSubmission(requestId, { state: 'accepted', jobId: accepted.jobId });
      logger?.info({ requestId, jobId: accepted.jobId, api: apiPath }, 'job submitted');
    }
    return new Job<T>((await store.findRequest(requestId))!, store, waiters);
  }

  return {
    speechToText: (input) => submit(ASYNC_APIS.speechToText, input),
    speakerDiarize: (input) => submit(ASYNC_APIS.speakerDiarize, input),
    speakerIdentify: (input) => submit(ASYNC_APIS.speakerIdentify, input),
    analyzeInteraction: (input) => submit(ASYNC_APIS.analyzeInteraction, input),
    punctuate: (input) => submit(ASYNC_APIS.punctuate, input),
    summarize: (input) => submit(ASYNC_APIS.summarize, input),
    recognizeEmotion: (input) => submit(ASYNC_APIS.recognizeEmotion, input),
    submit,
    async job<T>(id: string) {
      const record = await store.findRequest(id);
      if (!record) throw new JobhookError('JH_ERR_NOT_FOUND', `no request with request ID or jobId ${id}`);
      return new Job<T>(record, store, waiters);
    },
    // `never`: the one implementation serves both overloads (a typed handler is a ResultHandler at run time).
    async on(api: string, handler: (input: never) => unknown, opts: { name?: string } = {}) {
      const resolved = api === '*' ? null : resolveAsyncApi(api);
      if (resolved?.emulatorFaults) {
        throw new JobhookError('JH_ERR_INVALID_ARGUMENT', `a handler is registered for an API, not a query: ${api}`);
      }
      await runner.register(opts.name ?? api, resolved?.path ?? null, handler as ResultHandler);
    },
    async retry(id) {
      const record = await store.findRequest(id);
      if (!record) throw new JobhookError('JH_ERR_NOT_FOUND', `no request with request ID or jobId ${id}`);
      const count = await store.retryHandlerRuns(record.requestId);
      runner.kick();
      return count;
    },
    ...notificationHandlers(runner, store),
    reconcile: (opts) => reconciler.runOnce(opts),
    reconciler,
    get stats() {
      return { queued: gate.queued, inFlight: gate.inFlight, waiting: waiters.size };
    },
    async close() {
      // Reconciliation starts no further read; the gate then ends a read waiting for the budget at once.
      const reconciling = reconciler.stop();
      gate.close();
      await runner.stop();
      await reconciling;
      await platform.close();
    },
  };
}
