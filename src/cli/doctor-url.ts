import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { isLoopbackHost, rawPost, type Exchange, type RawAnswer } from './doctor-http.js';
import type { PlatformFacts } from './doctor-platform.js';
import { result, type Emit } from './doctor-report.js';
import { readAdvertisedServer } from './advertised-server.js';
import { callbackBaseFor, minterFor, type Runtime } from './runtime.js';

/**
 * The public-URL half of `jobhook doctor`: mint a subscription URL for the address RingCentral would use,
 * and send to it, from this process, what RingCentral sends (reference §3, §10): the creation handshake
 * (POST, empty body, `Validation-Token`), then a notification without the verification token (must be
 * refused) and one with it (must be accepted). Every answer is measured on the wire: 200, the token
 * echoed, at most 1024 bytes status line, headers and body together, within 3 s.
 *
 * The accepted probe is stored like any body (under the doctor's own subscription URL, so it shows in
 * `jobhook requests`) but is shaped like no notification: no event is indexed, and no `onEvent('*')` handler
 * or `--forward-to` target sees it.
 */
export interface UrlProbeLimits {
  /** RingCentral's deadline for an answer (docs: 3000 ms); past it the handshake fails (SUB-521). */
  answerTimeoutMs: number;
  /** Above this, a warning: older docs said 1 s, and a tunnel's latency leaves little margin. */
  warnAboveMs: number;
  /** RingCentral's limit on an answer's size (1024 bytes). */
  maxAnswerBytes: number;
}

export const DEFAULT_URL_LIMITS: UrlProbeLimits = { answerTimeoutMs: 3000, warnAboveMs: 1000, maxAnswerBytes: 1024 };

export const DOCTOR_EVENT = '/restapi/v1.0/jobhook/doctor';
const URL_CHECKS = ['handshake', 'notification-without-token', 'notification-with-token'] as const;
const SERVE_HINT = 'start jobhook serve (or dev) with this --db, and --tunnel ngrok to be reachable from RingCentral';

/** Why nothing (usable) came back, as SUB-521/524/525 with the cause and what to do. */
function unreachable(check: string, url: URL, exchange: Exclude<Exchange, { ok: true }>, limits: UrlProbeLimits) {
  const loopback = isLoopbackHost(url.hostname);
  switch (exchange.kind) {
    case 'tls':
      // OpenSSL's "wrong version number": what answered speaks plain HTTP, not TLS (an https URL in front of
      // `serve` without a TLS terminator); no certificate is involved.
      if (/wrong version number|packet length too long|http request/i.test(exchange.reason)) {
        return result(check, 'fail', `${url.host} does not speak TLS: ${exchange.reason.trim()}`, {
          code: 'SUB-521',
          fix: 'an https:// public URL needs TLS in front of serve (a tunnel such as ngrok, or a proxy); or the URL should be http://',
        });
      }
      return result(check, 'fail', `the TLS handshake with ${url.host} failed: ${exchange.reason.trim()}`, {
        code: 'SUB-524',
        fix: 'serve the whole certificate chain (intermediates included, e.g. Let’s Encrypt fullchain.pem)',
      });
    case 'malformed':
      return result(check, 'fail', `the answer is not well-formed HTTP/1.1: ${exchange.reason}`, {
        code: 'SUB-525',
        fix: 'something other than a jobhook receiver answers at this address: check the proxy or tunnel in front',
      });
    case 'timeout':
      return result(check, 'fail', `no complete answer within ${limits.answerTimeoutMs} ms`, {
        code: 'SUB-521',
        fix: 'the receiver or the tunnel stalls: check that serve is running and answering (GET /healthz)',
      });
    default:
      return result(check, 'fail', `${url.host} is not reachable: ${exchange.reason}`, {
        code: 'SUB-521',
        fix:
          exchange.kind === 'dns'
            ? 'the host name does not resolve: a tunnel address changes when the tunnel restarts; use the current one'
            : loopback
              ? `nothing answers on ${url.host}: ${SERVE_HINT}`
              : `nothing answers at ${url.host}: is the tunnel (or the server behind it) running?`,
      });
  }
}

const bytesOf = (a: RawAnswer): string =>
  `${a.truncated ? 'over ' : ''}${a.totalBytes} bytes (head ${a.totalBytes - a.body.length}, body ${a.body.length})`;

function sizeProblem(a: RawAnswer, limits: UrlProbeLimits): string | null {
  return a.totalBytes > limits.maxAnswerBytes
    ? `the answer is ${bytesOf(a)}, over the ${limits.maxAnswerBytes}-byte limit (status line, headers and body together)`
    : null;
}

function timing(check: string, a: RawAnswer, limits: UrlProbeLimits, ok: string, emit: Emit): void {
  const details = { status: a.status, totalBytes: a.totalBytes, elapsedMs: a.elapsedMs };
  if (a.elapsedMs > limits.warnAboveMs) {
    emit(
      result(
        check,
        'warn',
        `${ok}, but in ${a.elapsedMs} ms (RingCentral allows ${limits.answerTimeoutMs} ms; aim well under 1 s)`,
        {
          fix: 'a slow answer is a failed delivery to RingCentral, and failures blacklist the subscription: run the receiver (or the tunnel) closer, or on a faster host',
          details,
        },
      ),
    );
  } else emit(result(check, 'ok', `${ok} in ${a.elapsedMs} ms, ${a.totalBytes} bytes`, { details }));
}

async function probeHandshake(url: URL, limits: UrlProbeLimits, emit: Emit): Promise<boolean> {
  const token = randomUUID();
  // As the platform sends it: POST, empty body, JSON content type (docs issue #37), the token to echo.
  const exchange = await rawPost(
    url,
    {
      'Validation-Token': token,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': 'jobhook-doctor',
    },
    Buffer.alloc(0),
    limits.answerTimeoutMs,
  );
  if (!exchange.ok) {
    emit(unreachable('handshake', url, exchange, limits));
    return false;
  }
  const a = exchange.answer;
  const details = {
    status: a.status,
    totalBytes: a.totalBytes,
    elapsedMs: a.elapsedMs,
    echoed: a.headers['validation-token'] ?? null,
  };
  const size = sizeProblem(a, limits);
  if (a.status !== 200) {
    const why =
      a.status === 404
        ? 'this server does not know the URL: it is not the jobhook serve using this --db (or another program answers there)'
        : a.status === 503
          ? "the receiver's database is unavailable"
          : 'RingCentral requires exactly 200';
    emit(
      result('handshake', 'fail', `answered ${a.statusLine.slice(9)} instead of 200: ${why}`, {
        code: 'SUB-525',
        fix: SERVE_HINT,
        details,
      }),
    );
  } else if (a.headers['validation-token'] !== token) {
    const echoed = a.headers['validation-token'];
    emit(
      result(
        'handshake',
        'fail',
        echoed === undefined
          ? 'answered 200 without the Validation-Token header'
          : `echoed ${JSON.stringify(echoed)}, not the token sent`,
        {
          code: 'SUB-520',
          fix: 'answer the handshake (POST with Validation-Token and an empty body) by copying that header unchanged: a jobhook receiver does; is another program, or a proxy that drops headers, in front?',
          details,
        },
      ),
    );
  } else if (size) {
    emit(
      result('handshake', 'fail', size, {
        code: 'SUB-525',
        fix: 'answer with no body and few headers; a proxy or tunnel in front may add its own',
        details,
      }),
    );
  } else {
    timing('handshake', a, limits, '200, token echoed', emit);
  }
  return true;
}

/** A notification as RingCentral sends one (reference §10): the envelope, JSON, and maybe the verification token. */
async function probeNotification(
  url: URL,
  verificationToken: string | null,
  limits: UrlProbeLimits,
  emit: Emit,
): Promise<void> {
  const check = verificationToken === null ? 'notification-without-token' : 'notification-with-token';
  // Shaped like no notification (no `uuid`/`event`): the receiver stores it as any body, but no event is
  // indexed, so no `onEvent('*')` handler and no `--forward-to` target ever sees the probe.
  const envelope = {
    jobhookDoctor: `probe ${randomUUID()}`,
    event: null,
    note: `sent by jobhook doctor to check the receiver (${DOCTOR_EVENT})`,
    timestamp: new Date().toISOString(),
  };
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=UTF-8',
    Accept: 'application/json',
    'User-Agent': 'jobhook-doctor',
    ...(verificationToken === null ? {} : { 'Verification-Token': verificationToken }),
  };
  const exchange = await rawPost(url, headers, Buffer.from(JSON.stringify(envelope)), limits.answerTimeoutMs);
  if (!exchange.ok) return emit(unreachable(check, url, exchange, limits));
  const a = exchange.answer;
  const details = { status: a.status, totalBytes: a.totalBytes, elapsedMs: a.elapsedMs };
  if (verificationToken === null) {
    if (a.status === 403) return emit(result(check, 'ok', 'refused with 403, as it must be'));
    return emit(
      result(check, 'fail', `answered ${a.status}, not 403: anyone who learns the URL can post events to it`, {
        fix: 'the answering server does not check Verification-Token: put a jobhook receiver (serve) behind this address',
        details,
      }),
    );
  }
  if (a.status !== 200) {
    const why =
      a.status === 403
        ? 'the receiver refused the right token: it uses another database (secret) than this doctor — pass the --db serve uses'
        : a.status === 503
          ? "the receiver's database is unavailable: RingCentral would retry, then blacklist"
          : 'RingCentral counts anything but 200 as a failed delivery, and failures blacklist the subscription';
    return emit(result(check, 'fail', `answered ${a.status}: ${why}`, { fix: SERVE_HINT, details }));
  }
  const size = sizeProblem(a, limits);
  if (size) {
    // Reference, Addendum: the 1 KB limit holds for every answer, and a longer one is a failed delivery.
    return emit(
      result(check, 'fail', size, {
        code: 'SUB-525',
        fix: 'answer notifications with no body and few headers',
        details,
      }),
    );
  }
  timing(check, a, limits, 'accepted with 200', emit);
}

/**
 * Runs the URL checks; `runtime` is null when there is no database to mint from (the receiver's secret
 * lives there, so a URL minted elsewhere would be refused).
 */
export async function checkPublicUrl(
  config: Config,
  runtime: Runtime | null,
  platform: PlatformFacts,
  limits: UrlProbeLimits,
  emit: Emit,
): Promise<void> {
  const skipRest = (why: string): void => {
    for (const check of URL_CHECKS) emit(result(check, 'skip', why));
  };
  if (!runtime) {
    emit(
      result(
        'public-url',
        'fail',
        `no jobhook database at ${config.dbPath}: the URL must be minted with the secret of the serve it goes to`,
        {
          fix: 'run doctor from the folder serve runs in, or pass the --db it uses',
        },
      ),
    );
    return skipRest('not checked: no database');
  }
  const named = ['public-url', 'host', 'port'].some((o) => config.explicit.has(o));
  const recorded = named ? null : await readAdvertisedServer(runtime.store);
  if (!named && !recorded) {
    emit(
      result(
        'public-url',
        'fail',
        `no public URL: no jobhook serve recorded one in ${config.dbPath}, and --public-url is not set`,
        {
          fix: `${SERVE_HINT}; or pass --public-url`,
        },
      ),
    );
    return skipRest('not checked: no public URL');
  }
  // The same choice `mint` makes: the URL named on the command line, else the one the running serve recorded.
  const base = await callbackBaseFor(runtime, config, () => undefined);
  const where = recorded
    ? `recorded by jobhook serve, pid ${recorded.pid}${recorded.stale ? ', which is not running' : ''}`
    : 'as given';
  const summary = `${base.publicUrl}${base.pathPrefix} (${where})`;
  const publicUrl = new URL(base.publicUrl);
  if (isLoopbackHost(publicUrl.hostname)) {
    if (platform.local)
      emit(result('public-url', 'info', `${summary}: loopback, reachable by the local emulator only`));
    else {
      emit(
        result(
          'public-url',
          'fail',
          `${summary}: a loopback address, which RingCentral cannot reach (only the local emulator can)`,
          {
            code: 'SUB-521',
            fix: 'start serve (or dev) with --tunnel ngrok, or pass --public-url with the address RingCentral reaches',
          },
        ),
      );
    }
  } else if (publicUrl.protocol === 'http:' && !platform.local) {
    emit(
      result('public-url', 'warn', `${summary}: plain http, which only the sandbox accepts`, {
        code: 'SUB-523',
        fix: 'production requires https (TLS 1.2+): use a tunnel (--tunnel ngrok) or a TLS front',
      }),
    );
  } else emit(result('public-url', 'ok', summary));

  const minted = await minterFor(runtime, config, base.publicUrl, base.pathPrefix)({ kind: 'subscription' });
  const url = new URL(minted.callbackUrl);
  if (!(await probeHandshake(url, limits, emit))) {
    for (const check of URL_CHECKS.slice(1)) emit(result(check, 'skip', 'not checked: the handshake got no answer'));
    return;
  }
  await probeNotification(url, null, limits, emit);
  await probeNotification(url, minted.verificationToken, limits, emit);
}
