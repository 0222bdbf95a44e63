import { SDK } from '@ringcentral/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring, generateSecret } from '../../src/callback/callback-url.js';
import { verificationTokenFor } from '../../src/callback/verification-token.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { indexedDeliveries, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * Issue #12's first check: an official-SDK program creates WebHook subscriptions against the emulator with
 * jobhook-minted subscription URLs as addresses. The handshake passes; the ACE events of a call with AI Notes
 * arrive and are stored once each; a subscription created with a wrong verification token (or none) has
 * every event refused and stored nowhere.
 */
let harness: Harness | undefined;
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  await harness?.close();
  emulator = harness = undefined;
});

const ACE_PBX = '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights';
const RETRIES = 2;

interface Attempt {
  uuid: string;
  attempt: number;
  status: number | null;
}

describe('jobhook subscription URLs behind the emulated subscription API', () => {
  it('handshake, ACE events stored once each; a wrong or missing verification token refused everywhere', async () => {
    harness = await startHarness(tempDbPath());
    emulator = createEmulator({
      ace: { insightsDelayMs: 20, aiNotesGapMs: 150 },
      subscriptions: { delivery: { retries: RETRIES, backoffMs: 50, attemptTimeoutMs: 3000 } },
    });
    const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
    const platform = new SDK({ server: base, clientId: 'client-id', clientSecret: 'client-secret' }).platform();
    await platform.login({ jwt: fakeJwt() });

    const subscribe = async (address: string, verificationToken?: string) => {
      const response = await platform.post('/restapi/v1.0/subscription', {
        eventFilters: [ACE_PBX],
        deliveryMode: { transportType: 'WebHook', address, ...(verificationToken ? { verificationToken } : {}) },
        expiresIn: 3600,
      });
      // The platform creates a subscription only once its handshake to the address passed.
      expect(response.status).toBe(200);
      const info = (await response.json()) as { id: string; status: string; deliveryMode: { address: string } };
      expect(info).toMatchObject({ status: 'Active', deliveryMode: { address } });
      return info.id;
    };

    const good = await harness.mint({ kind: 'subscription' });
    const goodId = await subscribe(good.callbackUrl, good.verificationToken);
    // The token another installation (another secret) would derive for the same URL.
    const wrong = await harness.mint({ kind: 'subscription' });
    const foreignToken = verificationTokenFor(createKeyring([generateSecret()]), wrong.requestId);
    const wrongId = await subscribe(wrong.callbackUrl, foreignToken);
    const none = await harness.mint({ kind: 'subscription' });
    const noneId = await subscribe(none.callbackUrl);
    // Three handshakes answered, nothing stored, nothing refused.
    expect(harness.counts().deliveries).toBe(0);
    expect(harness.receiver.refusals.recent()).toEqual([]);

    const call = await fetch(`${base}/_emulator/ace/calls`, {
      method: 'POST',
      body: JSON.stringify({ domain: 'pbx', withAiNotes: true }),
    });
    expect(call.status).toBe(201);
    const { sourceRecordId, events } = (await call.json()) as { sourceRecordId: string; events: number };
    expect(events).toBe(2);

    const attemptsOf = async (id: string): Promise<Attempt[]> =>
      ((await (await fetch(`${base}/_emulator/subscriptions/${id}`)).json()) as { attempts: Attempt[] }).attempts;
    // Every attempt the emulator will make: one per event where it succeeds, 1 + RETRIES where it fails.
    await waitFor(async () => (await attemptsOf(goodId)).length === events, 10_000);
    for (const id of [wrongId, noneId]) {
      await waitFor(async () => (await attemptsOf(id)).length === events * (1 + RETRIES), 10_000);
    }

    const goodAttempts = await attemptsOf(goodId);
    expect(goodAttempts.map((a) => a.status)).toEqual([200, 200]);
    const stored = await indexedDeliveries(harness.store, good.requestId);
    expect(stored).toHaveLength(2);
    const envelopes = stored.map((d) => {
      expect(d.count).toBe(1);
      return JSON.parse(d.body.toString()) as {
        uuid: string;
        subscriptionId: string;
        body: { sourceRecordId: string };
      };
    });
    expect(new Set(envelopes.map((e) => e.uuid))).toEqual(new Set(goodAttempts.map((a) => a.uuid)));
    for (const envelope of envelopes) {
      expect(envelope).toMatchObject({ subscriptionId: goodId, body: { sourceRecordId } });
    }

    for (const [id, request, reason] of [
      [wrongId, wrong, 'verification-token-mismatch'],
      [noneId, none, 'verification-token-missing'],
    ] as const) {
      expect((await attemptsOf(id)).map((a) => a.status)).toEqual(Array(events * (1 + RETRIES)).fill(403));
      expect(await harness.store.listDeliveries(request.requestId)).toHaveLength(0);
      const refused = harness.receiver.refusals.recent().filter((r) => r.path.includes(request.requestId));
      expect(refused).toHaveLength(events * (1 + RETRIES));
      expect(new Set(refused.map((r) => `${r.reason} ${r.status}`))).toEqual(new Set([`${reason} 403`]));
    }
    expect(harness.counts().deliveries).toBe(2);
  });
});
