import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../../src/inspector/timeline.js';
import type { HandlerRun, RequestRecord } from '../../src/types.js';

const request: RequestRecord = {
  requestId: 'r1',
  kind: 'job',
  api: '/ai/audio/v1/async/speech-to-text',
  callbackUrl: 'http://127.0.0.1:3000/webhooks/r1/tag',
  origin: 'minted',
  parentRequestId: null,
  requestBody: null,
  jobId: 'job-1',
  state: 'succeeded',
  outcomeDeliveryId: 2,
  createdAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:09.000Z',
  completedAt: '2026-11-20T10:00:05.000Z',
  deliveryCount: 3,
  submitState: 'accepted',
  submitError: null,
  checkCount: 1,
  nextCheckAt: null,
};

const delivery = (deliveryId: number, at: string, source: 'webhook' | 'status-poll', status: string) => ({
  deliveryId,
  source,
  count: 1,
  firstReceivedAt: at,
  lastReceivedAt: at,
  parseState: 'parsed' as const,
  envelope: { jobId: 'job-1', api: null, status, creationTime: null, completionTime: null, expirationTime: null },
});

const run: HandlerRun = {
  handler: 'forward',
  eventKey: 'settled:r1',
  requestId: 'r1',
  deliveryId: 1,
  owner: null,
  leaseUntil: null,
  state: 'dead',
  attempts: 5,
  nextAttemptAt: '2026-11-20T10:00:09.000Z',
  lastError: 'connect ECONNREFUSED',
  updatedAt: '2026-11-20T10:00:09.000Z',
};

describe('request timeline', () => {
  it('orders what the store recorded: minted, submitted, deliveries and reads, settled, runs', () => {
    const events = buildTimeline(
      request,
      [
        delivery(2, '2026-11-20T10:00:05.000Z', 'webhook', 'Success'),
        delivery(1, '2026-11-20T10:00:03.000Z', 'status-poll', 'InProgress'),
      ],
      [run],
    );
    expect(events.map((e) => e.kind)).toEqual(['minted', 'submitted', 'delivery', 'delivery', 'settled', 'run']);
    expect(events[2]).toMatchObject({ source: 'status-poll', status: 'InProgress' });
    expect(events[4]).toMatchObject({ state: 'succeeded', deliveryId: 2, at: request.completedAt });
    expect(events[5]).toMatchObject({ state: 'dead', attempts: 5, lastError: 'connect ECONNREFUSED' });
  });

  it('invents nothing: no submission for an accepted path or a further job, no settling while pending', () => {
    const pending = { ...request, state: 'pending' as const, completedAt: null, outcomeDeliveryId: null };
    expect(buildTimeline({ ...pending, origin: 'accepted' }, [], []).map((e) => e.kind)).toEqual(['minted']);
    expect(buildTimeline({ ...pending, parentRequestId: 'r0' }, [], []).map((e) => e.kind)).toEqual(['minted']);
    const rejected = buildTimeline({ ...pending, submitState: 'rejected', submitError: 'CAI-101: bad uri' }, [], []);
    expect(rejected[1]).toEqual({
      kind: 'submitted',
      at: null,
      submitState: 'rejected',
      error: 'CAI-101: bad uri',
      jobId: 'job-1',
    });
  });
});
