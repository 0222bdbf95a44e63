import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { listenOn } from '../http-listen.js';
import { asyncApiName, ENROLLMENTS_PATH, JOB_STATUS_PATH, REVOKE_PATH, TOKEN_PATH } from '../ringcentral/apis.js';
import { platformError } from '../ringcentral/platform-error.js';
import { isHttpUrl, validateJobInput } from '../ringcentral/validate-input.js';
import { AuthServer, type Session } from './auth.js';
import { createAuthz } from './authz.js';
import { Enrollments } from './enrollments.js';
import { createEventsApi } from './events-api.js';
import { readText, send } from './http-io.js';
import { JobEngine, type EmulatedJob } from './job-engine.js';
import { parseJobOverrides, resolveEmulatorOptions, type EmulatorConfig, type EmulatorOptions } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import { decodeComponent, MALFORMED_URL, webhookParam } from './request-url.js';
import { pointsAtListener } from './self-target.js';

/**
 * A local stand-in for the RingCentral AI API: same paths, bodies, status codes and headers as the
 * reference, so a program written against the real API with an official SDK works against it by changing
 * only the server URL. Adds fault injection and a control API under `/_emulator/`. The subscription API,
 * ACE insights events and ACE reads live in events-api.ts.
 */
export interface Emulator {
  readonly server: Server;
  readonly engine: JobEngine;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

function jobView(engine: JobEngine, job: EmulatedJob): Record<string, unknown> {
  const { status } = engine.envelope(job);
  return { jobId: job.jobId, api: job.api, status, webhook: job.webhook, plan: job.plan, attempts: job.attempts };
}

export function createEmulator(config: EmulatorConfig = {}, logger?: Logger): Emulator {
  const options: EmulatorOptions = resolveEmulatorOptions(config);
  // The app scopes and user permissions a pre-flight checks (`jobhook doctor`); the token answer states the scopes.
  const authz = createAuthz();
  const auth = new AuthServer(
    () => options,
    () => authz.scope(),
  );
  const events = createEventsApi(options, auth, logger);
  const enrollments = new Enrollments();
  const engine = new JobEngine({ options, isEnrolledComplete: (id) => enrollments.isComplete(id), logger });
  let limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : null;
  /** Answers by status code, for `/_emulator/stats` (how many 429s a client provoked, say). */
  const answered = new Map<number, number>();

  /** Authenticates and applies the Heavy group's limit; answers and returns null when refused. */
  function admit(
    req: IncomingMessage,
    res: ServerResponse,
  ): { session: Session; headers: Record<string, string> } | null {
    const authn = auth.authenticate(req.headers.authorization);
    if (!authn.ok) {
      send(res, 401, platformError(authn.errorCode, authn.message));
      return null;
    }
    if (!limiter) return { session: authn.session, headers: {} };
    const decision = limiter.check(authn.session.ownerId);
    if (!decision.allowed) {
      send(res, 429, platformError('CMN-301', 'Request rate exceeded'), {
        ...limiter.headers(0),
        'retry-after': String(decision.retryAfterS),
      });
      return null;
    }
    return { session: authn.session, headers: limiter.headers(decision.remaining) };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    let url: URL;
    try {
      url = new URL(rawUrl, 'http://emulator');
    } catch {
      return send(res, 400, MALFORMED_URL);
    }
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === TOKEN_PATH && method === 'POST') {
      const result = auth.token(req.headers.authorization, new URLSearchParams((await readText(req)) ?? ''));
      if (result.ok) return send(res, 200, result.body);
      return send(res, result.status, {
        error: result.error,
        error_description: result.message,
        ...platformError(result.errorCode, result.message),
      });
    }
    if (path === REVOKE_PATH && method === 'POST') {
      const form = new URLSearchParams((await readText(req)) ?? '');
      auth.revoke(form.get('token') ?? url.searchParams.get('token'));
      return send(res, 200);
    }
    if (await events.handle(req, res, url)) return; // subscriptions, ACE, their control routes
    if (await authz.handle(req, res, url, auth)) return; // authz-profile/check and /_emulator/authz
    if (path.startsWith('/_emulator/')) return control(method, path, res);

    const api = method === 'POST' ? asyncApiName(path) : undefined;
    if (api) {
      const admitted = admit(req, res);
      if (!admitted) return;
      const parsed = parseJobOverrides(
        (req.headers['x-emulator-faults'] as string | undefined) ?? url.searchParams.get('_emulator'),
      );
      if (parsed.problem !== undefined) {
        return send(
          res,
          400,
          platformError('CAI-101', `Parameter [_emulator] is invalid. ${parsed.problem}`, '_emulator'),
          admitted.headers,
        );
      }
      const { overrides } = parsed;
      if (overrides.unavailable ?? (options.unavailableRate > 0 && Math.random() < options.unavailableRate)) {
        return send(res, 503, platformError('CMN-201', 'Service temporarily unavailable'), {
          ...admitted.headers,
          'retry-after': '1',
        });
      }
      const text = await readText(req);
      if (text === null) return send(res, 413, platformError('CMN-102', 'Request body is too large'), admitted.headers);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, platformError('CMN-103', 'Request body is not valid JSON'), admitted.headers);
      }
      const webhook = webhookParam(rawUrl);
      if (webhook === null && options.requireWebhook) {
        return send(
          res,
          400,
          platformError('CAI-101', 'Parameter [webhook] is invalid. It is required', 'webhook'),
          admitted.headers,
        );
      }
      if (webhook !== null && !isHttpUrl(webhook)) {
        return send(
          res,
          400,
          platformError('CAI-101', 'Parameter [webhook] is invalid. It should be a valid uri', 'webhook'),
          admitted.headers,
        );
      }
      // Checked at submit only: a refused job never exists, so there is nothing to deliver to ourselves.
      // The listener is the socket this request arrived on (no port on a Unix socket: nothing to match).
      const { localAddress, localPort } = req.socket;
      if (
        webhook !== null &&
        localPort !== undefined &&
        pointsAtListener(webhook, { address: localAddress ?? '', port: localPort })
      ) {
        return send(
          res,
          400,
          platformError(
            'CAI-101',
            "Parameter [webhook] is invalid. It should not point at the emulator's own port",
            'webhook',
          ),
          admitted.headers,
        );
      }
      const problem = validateJobInput(api, body);
      if (problem)
        return send(
          res,
          400,
          platformError(problem.errorCode, problem.message, problem.parameterName),
          admitted.headers,
        );
      const job = engine.submit(api, body as Record<string, unknown>, webhook, overrides);
      logger?.debug({ jobId: job.jobId, api }, 'job submitted');
      return send(res, 202, { jobId: job.jobId }, admitted.headers);
    }

    if (path.startsWith(JOB_STATUS_PATH) && method === 'GET') {
      const admitted = admit(req, res);
      if (!admitted) return;
      const jobId = decodeComponent(path.slice(JOB_STATUS_PATH.length));
      if (jobId === null) return send(res, 400, MALFORMED_URL, admitted.headers);
      const job = engine.get(jobId);
      if (!job) return send(res, 404, platformError('CMN-102', 'Job not found or expired'), admitted.headers);
      return send(res, 200, engine.envelope(job), admitted.headers);
    }

    if (path === ENROLLMENTS_PATH || path.startsWith(`${ENROLLMENTS_PATH}/`)) {
      const authn = auth.authenticate(req.headers.authorization);
      if (!authn.ok) return send(res, 401, platformError(authn.errorCode, authn.message));
      const id =
        path.length > ENROLLMENTS_PATH.length ? decodeComponent(path.slice(ENROLLMENTS_PATH.length + 1)) : null;
      if (path.length > ENROLLMENTS_PATH.length && id === null) return send(res, 400, MALFORMED_URL);
      const readBody = async (): Promise<Record<string, unknown> | null> => {
        try {
          const value: unknown = JSON.parse((await readText(req)) ?? '');
          return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
        } catch {
          return null;
        }
      };
      let reply;
      if (id === null && method === 'GET') reply = enrollments.list(url.searchParams);
      else if (id === null && method === 'POST') {
        const body = await readBody();
        reply = body
          ? enrollments.create(body)
          : { status: 400, body: platformError('CMN-103', 'Request body is not valid JSON') };
      } else if (id !== null && method === 'GET') reply = enrollments.get(id);
      else if (id !== null && method === 'PATCH') {
        const body = await readBody();
        reply = body
          ? enrollments.update(id, body)
          : { status: 400, body: platformError('CMN-103', 'Request body is not valid JSON') };
      } else if (id !== null && method === 'DELETE') reply = enrollments.delete(id);
      else reply = { status: 405, body: platformError('CMN-405', `${method} is not allowed here`) };
      return send(res, reply.status, reply.body);
    }
    return send(res, 404, platformError('CMN-120', `Resource for ${method} ${path} is not found`));
  }

  function control(method: string, path: string, res: ServerResponse): void {
    const parts = path.split('/').filter(Boolean); // ['_emulator', 'jobs', id?, action?]
    if (method === 'GET' && parts[1] === 'jobs' && parts.length === 2) {
      return send(res, 200, { jobs: engine.list().map((j) => jobView(engine, j)) });
    }
    if (parts[1] === 'jobs' && parts[2]) {
      const job = engine.list().find((j) => j.jobId === parts[2]);
      if (!job) return send(res, 404, { error: 'no such job' });
      if (method === 'GET' && parts.length === 3)
        return send(res, 200, { ...jobView(engine, job), envelope: engine.envelope(job) });
      if (method === 'POST' && parts[3] === 'complete')
        return send(res, 200, jobView(engine, engine.complete(job.jobId)!));
      if (method === 'POST' && parts[3] === 'redeliver') {
        return engine.redeliver(job.jobId)
          ? send(res, 202, jobView(engine, job))
          : send(res, 409, { error: 'job not finished or has no webhook' });
      }
    }
    if (method === 'GET' && parts[1] === 'stats' && parts.length === 2) {
      return send(res, 200, { answered: Object.fromEntries(answered), jobs: engine.list().length });
    }
    if (method === 'POST' && parts[1] === 'reset' && parts.length === 2) {
      engine.reset();
      enrollments.reset();
      events.reset();
      answered.clear();
      auth.reset();
      authz.reset();
      limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : null;
      return send(res, 204);
    }
    return send(res, 404, { error: 'unknown control route' });
  }

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 60_000 }, (req, res) => {
    if (!(req.url ?? '').startsWith('/_emulator/')) {
      res.once('finish', () => answered.set(res.statusCode, (answered.get(res.statusCode) ?? 0) + 1));
    }
    route(req, res).catch((error: unknown) => {
      logger?.error({ err: error }, 'emulator request failed');
      if (!res.headersSent) send(res, 500, platformError('CMN-203', 'Internal emulator error'));
    });
  });

  return {
    server,
    engine,
    listen: (port, host) => listenOn(server, port, host),
    close() {
      engine.close();
      events.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
