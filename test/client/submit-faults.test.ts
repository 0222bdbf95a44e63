import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobhook, type Jobhook, type JobhookOptions } from '../../src/client/jobhook.js';
import { ApiRejectedError } from '../../src/errors.js';
import { startHarness, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { startFakePlatform, type FakePlatform, type Route } from '../ringcentral/fake-platform.js';

const PUNCTUATE = '/ai/text/v1/async/punctuate';
const POSTS = `POST ${PUNCTUATE}`;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Setup {
  platform: FakePlatform;
  harness: Harness;
  jobhook: Jobhook;
}

async function setup(route: Route, options: Partial<JobhookOptions> = {}): Promise<Setup> {
  const platform = await startFakePlatform(route);
  cleanups.push(() => platform.close());
  const harness = await startHarness(tempDbPath());
  cleanups.push(() => harness.close());
  const jobhook = await createJobhook({
    store: harness.store,
    publicUrl: harness.baseUrl,
    ringcentral: { server: platform.url, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
    retryBaseMs: 20,
    ...options,
  });
  cleanups.push(() => jobhook.close());
  return { platform, harness, jobhook };
}

describe('429 handling: Retry-After parsed strictly, every hold within [floor, ceiling]', () => {
  const floorMs = 200;
  const ceilingMs = 700;

  /** 429 with `retryAfter` to every POST during the first `refuseForMs`, then 202. */
  async function submitThrough(retryAfter: string, refuseForMs: number) {
    let firstAt = 0;
    const s = await setup(
      (_req, res) => {
        firstAt ||= Date.now();
        if (Date.now() - firstAt < refuseForMs) {
          res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/json' });
          res.end('{"errorCode":"CMN-301","message":"Request rate exceeded"}');
        } else res.writeHead(202, { 'content-type': 'application/json' }).end('{"jobId":"job-1"}');
      },
      { rateLimit: { minWaitMs: floorMs, maxWaitMs: ceilingMs } },
    );
    const started = Date.now();
    const job = await s.jobhook.punctuate({ texts: ['hi'] });
    return { job, elapsedMs: Date.now() - started, posts: s.platform.count(POSTS) };
  }

  it.each(['0', '-1', 'garbage'])('Retry-After: %s waits at least the floor: no tight loop', async (value) => {
    // Refused for 1 s: the old gate sent ~1 000 requests a second for 0 and -1.
    const { job, elapsedMs, posts } = await submitThrough(value, 1000);
    expect(job.jobId).toBe('job-1');
    expect(posts).toBeGreaterThanOrEqual(2);
    expect(posts).toBeLessThanOrEqual(1 + Math.ceil(1000 / floorMs) + 1);
    expect(elapsedMs).toBeGreaterThanOrEqual(1000);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('Retry-After: 99999999 waits the ceiling, not a 1 ms overflowed timer', async () => {
    const { elapsedMs, posts } = await submitThrough('99999999', 1);
    expect(posts).toBe(2);
    expect(elapsedMs).toBeGreaterThanOrEqual(ceilingMs - 50);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('Retry-After as an HTTP-date is honoured (it was read as garbage: 30 s)', async () => {
    // HTTP-dates have whole seconds: 2 s ahead means a wait of 1-2 s, under a 3 s ceiling.
    const { elapsedMs, posts } = await (async () => {
      let firstAt = 0;
      const s = await setup(
        (_req, res) => {
          if (!firstAt) {
            firstAt = Date.now();
            res.writeHead(429, { 'retry-after': new Date(Date.now() + 2000).toUTCString() }).end();
          } else res.writeHead(202, { 'content-type': 'application/json' }).end('{"jobId":"job-2"}');
        },
        { rateLimit: { minWaitMs: floorMs, maxWaitMs: 3000 } },
      );
      const started = Date.now();
      await s.jobhook.punctuate({ texts: ['hi'] });
      return { elapsedMs: Date.now() - started, posts: s.platform.count(POSTS) };
    })();
    expect(posts).toBe(2);
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(10_000);
  }, 20_000);
});

describe('what a submission answer decides', () => {
  it('a 202 whose body is not JSON is accepted, noted, and its result still arrives by webhook', async () => {
    const s = await setup((_req, res) => res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted'));
    const job = await s.jobhook.punctuate({ texts: ['hi'] });
    expect(job.jobId).toBeNull();
    const record = await job.record();
    expect(record).toMatchObject({ submitState: 'accepted', jobId: null, state: 'pending' });
    expect(record.submitError).toBe(
      'accepted (HTTP 202) but the answer carried no readable jobId; reconciliation cannot find this job; a webhook still settles it',
    );
    const result = job.result({ timeoutMs: 10_000 });
    const envelope = {
      jobId: 'job-from-webhook',
      api: PUNCTUATE,
      creationTime: '2026-11-26T10:00:00Z',
      completionTime: '2026-11-26T10:00:01Z',
      expirationTime: '2099-12-03T10:00:00Z',
      status: 'Success',
      response: { texts: ['Hi.'] },
    };
    const delivered = await fetch(record.callbackUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope),
    });
    expect(delivered.status).toBe(200);
    await expect(result).resolves.toEqual({ texts: ['Hi.'] });
  });

  it('a 202 with JSON but no jobId is accepted too', async () => {
    const s = await setup((_req, res) => res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":7}'));
    const job = await s.jobhook.punctuate({ texts: ['hi'] });
    expect(await job.record()).toMatchObject({
      submitState: 'accepted',
      submitError: expect.stringMatching(/no readable jobId/),
    });
  });

  it('a 400 whose error body is 100 KB is a clear ApiRejectedError (it used to end the process silently)', async () => {
    const message = `Parameter [texts] is invalid. ${'x'.repeat(100_000)}`;
    const s = await setup((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errorCode: 'CAI-101',
          message,
          errors: [{ errorCode: 'CAI-101', message, parameterName: 'texts' }],
        }),
      );
    });
    const error = await s.jobhook.punctuate({ texts: ['hi'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({ status: 400, errorCode: 'CAI-101', parameterName: 'texts' });
    const [request] = await s.harness.store.listRequests({ limit: 1 });
    expect(request).toMatchObject({ submitState: 'rejected' });
  });

  it('a POST the platform never answers times out, is marked unknown and is not sent again', async () => {
    const s = await setup(() => undefined, { platformOptions: { timeoutMs: 300 }, maxSubmitAttempts: 5 });
    const started = Date.now();
    const error = await s.jobhook.punctuate({ texts: ['hi'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE' });
    expect((error as Error).message).toMatch(/no complete answer within 300 ms; the POST may have reached it/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(s.platform.count(POSTS)).toBe(1);
    const [request] = await s.harness.store.listRequests({ limit: 1 });
    expect(request).toMatchObject({ submitState: 'unknown' });
  });

  it('a platform that never answers the login ends the submission rejected, nothing POSTed', async () => {
    const silent = createServer(() => undefined); // accepts every request, answers none
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    );
    const harness = await startHarness(tempDbPath());
    cleanups.push(() => harness.close());
    const { port } = silent.address() as { port: number };
    const jobhook = await createJobhook({
      store: harness.store,
      publicUrl: harness.baseUrl,
      ringcentral: { server: `http://127.0.0.1:${port}`, clientId: 'id', clientSecret: 'secret', jwt: 'a.b.c' },
      platformOptions: { timeoutMs: 200, loginAttempts: 2, loginRetryBaseMs: 10 },
    });
    cleanups.push(() => jobhook.close());
    const error = await jobhook.punctuate({ texts: ['hi'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JH_ERR_PLATFORM_UNREACHABLE', duringLogin: true });
    const [request] = await harness.store.listRequests({ limit: 1 });
    expect(request).toMatchObject({ submitState: 'rejected' });
  });
});
