import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isAceDomain } from '../ringcentral/ace.js';
import { platformError } from '../ringcentral/platform-error.js';
import type { AceCalls } from './ace-events.js';
import { isAceRestPath, readAceInsights } from './ace-rest.js';
import type { AuthServer } from './auth.js';
import { isCallLogPath, readCallLog, RecordedCalls } from './call-log.js';
import { readJsonObject, send } from './http-io.js';
import { parseJobOverrides, type EmulatorOptions, type RateLimit } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import { createRng, hashToUint32, type Rng } from './rng.js';
import { pointsAtListener } from './self-target.js';
import { Notifier } from './subscription-delivery.js';
import { Subscriptions, type Caller, type Reply } from './subscriptions.js';

/**
 * The push-notification side of the emulator, routed from server.ts: the subscription API
 * (`/restapi/v1.0/subscription…`), the ACE REST reads, the call log of the simulated pbx calls
 * (call-log.ts), and the control routes `/_emulator/ace/calls`, `/_emulator/subscriptions[/{id}[/blacklist]]`
 * and `/_emulator/events` (publish any event).
 * Every random choice comes from one generator seeded by `seed`, reset by `/_emulator/reset`.
 */
export interface EventsApi {
  /** Answers and returns true when the request is one of these routes. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  readonly subscriptions: Subscriptions;
  readonly calls: AceCalls;
  readonly notifier: Notifier;
  reset(): void;
  close(): void;
}

const SUBSCRIPTION = '/restapi/v1.0/subscription';
const LIGHT = 'light';

export function createEventsApi(options: EmulatorOptions, auth: AuthServer, logger?: Logger): EventsApi {
  let rng: Rng = createRng(options.seed, 'subscriptions');
  const currentRng = (): Rng => rng;
  const accountId = String(100_000_000 + (hashToUint32(options.seed, 'account') % 900_000_000));
  const subscriptions = new Subscriptions(() => options, accountId, currentRng);
  const notifier = new Notifier(() => options, subscriptions, currentRng, logger);
  const calls = new RecordedCalls(() => options, currentRng, notifier, accountId);
  const limiters = (): Record<string, RateLimiter | null> => {
    const make = (l: RateLimit | null) => (l ? new RateLimiter(l) : null);
    return { light: make(options.subscriptions.lightRateLimit), medium: make(options.subscriptions.mediumRateLimit) };
  };
  let limiter = limiters();

  /** Authenticates and applies the route's rate-limit group; answers and returns null when refused. */
  function admit(
    req: IncomingMessage,
    res: ServerResponse,
    group: string,
  ): { caller: Caller; headers: Record<string, string> } | null {
    const authn = auth.authenticate(req.headers.authorization);
    if (!authn.ok) {
      send(res, 401, platformError(authn.errorCode, authn.message));
      return null;
    }
    const caller = { ownerId: authn.session.ownerId, clientId: authn.session.clientId };
    const gate = limiter[group] ?? null;
    if (!gate) return { caller, headers: {} };
    const decision = gate.check(caller.ownerId);
    const named = (h: Record<string, string>) => ({ ...h, 'x-rate-limit-group': group });
    if (!decision.allowed) {
      send(res, 429, platformError('CMN-301', 'Request rate exceeded'), {
        ...named(gate.headers(0)),
        'retry-after': String(decision.retryAfterS),
      });
      return null;
    }
    return { caller, headers: named(gate.headers(decision.remaining)) };
  }

  const reply = (res: ServerResponse, r: Reply, headers: Record<string, string> = {}): true => {
    send(res, r.status, r.body, headers);
    return true;
  };
  const badJson: Reply = { status: 400, body: platformError('CMN-103', 'Request body is not valid JSON') };

  async function subscriptionRoute(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
  ): Promise<boolean> {
    const rest = path.slice(SUBSCRIPTION.length).split('/').filter(Boolean);
    if (rest.length > 2 || (rest.length === 2 && rest[1] !== 'renew')) return false;
    const [id, action] = rest;
    const light = method === 'GET' || action === 'renew';
    const admitted = admit(req, res, light ? LIGHT : 'medium');
    if (!admitted) return true;
    const { caller, headers } = admitted;
    const base = `http://${req.headers.host ?? 'localhost'}`;
    if (id === undefined && method === 'GET') return reply(res, subscriptions.list(caller, base), headers);
    if (id === undefined && method === 'POST') {
      const body = await readJsonObject(req);
      if (!body) return reply(res, badJson, headers);
      const { localAddress, localPort } = req.socket;
      const own = (address: string) =>
        localPort !== undefined && pointsAtListener(address, { address: localAddress ?? '', port: localPort });
      return reply(res, await subscriptions.create(caller, body, base, own), headers);
    }
    if (id !== undefined && action === 'renew' && method === 'POST') {
      return reply(res, subscriptions.renew(caller, id, base), headers);
    }
    if (id !== undefined && action === undefined) {
      if (method === 'GET') return reply(res, subscriptions.get(caller, id, base), headers);
      if (method === 'DELETE') return reply(res, subscriptions.delete(caller, id), headers);
      if (method === 'PUT') {
        const body = await readJsonObject(req);
        if (!body) return reply(res, badJson, headers);
        return reply(res, await subscriptions.update(caller, id, body, base), headers);
      }
    }
    return reply(res, { status: 405, body: platformError('CMN-405', `${method} is not allowed here`) }, headers);
  }

  async function control(req: IncomingMessage, res: ServerResponse, parts: string[], method: string): Promise<boolean> {
    const base = `http://${req.headers.host ?? 'localhost'}`;
    if (parts[1] === 'ace' && parts[2] === 'calls' && parts.length === 3) {
      if (method === 'GET') return reply(res, { status: 200, body: { calls: calls.list() } });
      if (method !== 'POST') return false;
      const body = await readJsonObject(req);
      if (!body) return reply(res, { status: 400, body: { error: 'body must be a JSON object' } });
      if (!isAceDomain(body.domain)) {
        return reply(res, {
          status: 400,
          body: { error: 'domain must be one of pbx, rcv, rcx, ms-teams, nice-incontact' },
        });
      }
      if (body.withAiNotes === true && body.domain !== 'pbx') {
        return reply(res, { status: 400, body: { error: 'AI Notes exist for pbx calls only (reference §11.3)' } });
      }
      const parsed = parseJobOverrides(typeof body.faults === 'string' ? body.faults : null);
      if (parsed.problem !== undefined) return reply(res, { status: 400, body: { error: parsed.problem } });
      const { drop, duplicate, delayMs } = parsed.overrides;
      const owner = typeof body.ownerExtensionId === 'string' ? body.ownerExtensionId : accountId;
      const call = calls.simulate(body.domain, body.withAiNotes === true, owner, { drop, duplicate, delayMs });
      const { domain, sourceRecordId, sourceSessionId, plannedEvents } = call;
      return reply(res, { status: 201, body: { domain, sourceRecordId, sourceSessionId, events: plannedEvents } });
    }
    if (parts[1] === 'events' && parts.length === 2 && method === 'POST') {
      const body = await readJsonObject(req);
      if (!body || typeof body.event !== 'string')
        return reply(res, { status: 400, body: { error: 'need {event, body}' } });
      return reply(res, { status: 202, body: { subscriptionIds: notifier.publish(body.event, body.body ?? {}) } });
    }
    if (parts[1] !== 'subscriptions') return false;
    if (parts.length === 2 && method === 'GET') {
      const view = subscriptions
        .all()
        .map((s) => ({ ...subscriptions.info(s, base), ownerId: s.ownerId, attempts: s.attempts }));
      return reply(res, { status: 200, body: { subscriptions: view } });
    }
    const sub = parts[2] === undefined ? undefined : subscriptions.byId(parts[2]);
    if (!sub) return reply(res, { status: 404, body: { error: 'no such subscription' } });
    if (parts.length === 3 && method === 'GET') {
      return reply(res, {
        status: 200,
        body: { ...subscriptions.info(sub, base), ownerId: sub.ownerId, attempts: sub.attempts },
      });
    }
    if (parts.length === 4 && parts[3] === 'blacklist' && method === 'POST') {
      const body = await readJsonObject(req);
      const reason = typeof body?.reason === 'string' ? body.reason : 'Blacklisted by the emulator control API';
      subscriptions.blacklist(sub, reason);
      return reply(res, { status: 200, body: subscriptions.info(sub, base) });
    }
    return false;
  }

  return {
    subscriptions,
    calls,
    notifier,
    async handle(req, res, url) {
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (path === SUBSCRIPTION || path.startsWith(`${SUBSCRIPTION}/`))
        return subscriptionRoute(req, res, path, method);
      if (method === 'GET' && isAceRestPath(path)) {
        const admitted = admit(req, res, LIGHT);
        if (!admitted) return true;
        return reply(res, readAceInsights(calls, accountId, path, url.searchParams), admitted.headers);
      }
      if (method === 'GET' && isCallLogPath(path)) {
        // Heavy on the platform; limited here only when a `heavy` group is configured (none yet).
        const admitted = admit(req, res, 'heavy');
        if (!admitted) return true;
        const base = `http://${req.headers.host ?? 'localhost'}`;
        return reply(res, readCallLog(calls, accountId, path, url.searchParams, base), admitted.headers);
      }
      if (path.startsWith('/_emulator/')) return control(req, res, path.split('/').filter(Boolean), method);
      return false;
    },
    reset() {
      notifier.reset();
      calls.reset();
      subscriptions.reset();
      rng = createRng(options.seed, 'subscriptions');
      limiter = limiters();
    },
    close() {
      notifier.close();
      calls.reset();
    },
  };
}
