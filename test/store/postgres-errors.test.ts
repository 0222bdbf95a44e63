import { describe, expect, it } from 'vitest';
import { JobhookError } from '../../src/errors.js';
import { isConnectionError, isPoolBusy, isRetryable, toStoreError } from '../../src/store/postgres/errors.js';

/** A driver error as `pg` makes them: an Error with PostgreSQL's SQLSTATE (or Node's socket code) in `code`. */
const pgError = (code: string, message = `failed with ${code}`): Error => Object.assign(new Error(message), { code });

describe('PostgreSQL error mapping', () => {
  it('calls the server going away, or never answering, unavailable and a connection failure', () => {
    const failures = [
      pgError('ECONNREFUSED'),
      pgError('ECONNRESET'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006'),
      pgError('53300', 'sorry, too many clients already'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], ''),
    ];
    for (const error of failures) {
      expect(isConnectionError(error), error.message).toBe(true);
      expect(toStoreError(error, 'record deliveries')).toMatchObject({
        code: 'JH_ERR_STORE_UNAVAILABLE',
        message: expect.stringMatching(/^cannot record deliveries: the database is unreachable/),
      });
    }
  });

  it('calls a refused statement a conflict, and a timed-out or cancelled one unavailable but not an outage', () => {
    for (const code of ['23505', '23514', '22021', '22P02']) {
      expect(toStoreError(pgError(code), 'record the request').code).toBe('JH_ERR_STORE_CONFLICT');
      expect(isConnectionError(pgError(code))).toBe(false);
    }
    const timeout = pgError('57014', 'canceling statement due to statement timeout');
    expect(toStoreError(timeout, 'write a setting').code).toBe('JH_ERR_STORE_UNAVAILABLE');
    expect(isConnectionError(timeout)).toBe(false);
  });

  it('calls a pool whose connections all stayed busy unavailable, but busy, not the database unreachable', () => {
    // pg-pool's words when no checked-out client came back within connectionTimeoutMillis.
    const queued = new Error('timeout exceeded when trying to connect');
    expect(isConnectionError(queued)).toBe(false);
    const error = toStoreError(queued, 'find a request');
    expect(error).toMatchObject({
      code: 'JH_ERR_STORE_UNAVAILABLE',
      message: expect.stringMatching(/^cannot find a request: the pool is busy/),
    });
    expect([isPoolBusy(queued), isPoolBusy(error), isPoolBusy(pgError('ECONNREFUSED'))]).toEqual([true, true, false]);
  });

  it('retries deadlocks and serialization failures only, and passes JobhookErrors through', () => {
    expect([pgError('40P01'), pgError('40001'), pgError('23505'), new Error('x')].map(isRetryable)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const own = new JobhookError('JH_ERR_LEASE_LOST', 'lost');
    expect(toStoreError(own, 'complete a run')).toBe(own);
  });
});
