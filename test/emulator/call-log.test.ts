import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHarness } from '../helpers/emulator-client.js';
import { waitFor } from '../helpers/receiver-harness.js';

/**
 * The emulator's call log of simulated recorded calls: where a backfill finds the pbx recording ids whose ACE
 * events it missed (reference §12.1).
 */
let harness: EmulatorHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface CallLogRecord {
  id: string;
  sessionId: string;
  telephonySessionId: string;
  startTime: string;
  duration: number;
  recording: { id: string; type: string; contentUri: string };
}
interface CallLogPage {
  records: CallLogRecord[];
  paging: { page: number; perPage: number; totalPages: number; totalElements: number };
  navigation: { nextPage?: { uri: string }; previousPage?: { uri: string } };
}

async function simulate(
  h: EmulatorHarness,
  domain: string,
): Promise<{ sourceRecordId: string; sourceSessionId: string }> {
  const response = await fetch(`${h.base}/_emulator/ace/calls`, { method: 'POST', body: JSON.stringify({ domain }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { sourceRecordId: string; sourceSessionId: string };
}

async function callLog(h: EmulatorHarness, query = '', path = '/restapi/v1.0/account/~/call-log') {
  const response = await fetch(`${h.base}${path}${query}`, { headers: { authorization: `Bearer ${h.token}` } });
  return { status: response.status, body: (await response.json()) as CallLogPage & { errorCode?: string } };
}

describe('the emulated call log', () => {
  it('lists the simulated pbx calls with their recording ids, newest first, and their times once published', async () => {
    harness = await startEmulator({ ace: { insightsDelayMs: 30_000, aiNotesGapMs: 1000 } });
    const first = await simulate(harness, 'pbx');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await simulate(harness, 'pbx');
    await simulate(harness, 'rcv'); // video: not in the phone call log
    const { status, body } = await callLog(harness, '?recordingType=All');
    expect(status).toBe(200);
    expect(body.records.map((r) => r.recording.id)).toEqual([second.sourceRecordId, first.sourceRecordId]);
    expect(body.records.map((r) => r.telephonySessionId)).toEqual([second.sourceSessionId, first.sourceSessionId]);
    for (const r of body.records) {
      expect(r.recording.type).toBe('Automatic');
      expect(r.sessionId).toMatch(/^\d+$/);
      expect(r.recording.contentUri).toContain(`/recording/${r.recording.id}/content`);
    }
    expect(body.paging).toMatchObject({ page: 1, totalElements: 2, totalPages: 1 });
    // The extension's log is the same here.
    const extension = await callLog(harness, '', '/restapi/v1.0/account/~/extension/~/call-log');
    expect(extension.body.records.map((r) => r.recording.id)).toEqual(body.records.map((r) => r.recording.id));
  });

  it('takes the recording start and length from the insights once the emulator published them', async () => {
    harness = await startEmulator({ ace: { insightsDelayMs: 10, aiNotesGapMs: 10 } });
    const call = await simulate(harness, 'pbx');
    const auth = { authorization: `Bearer ${harness.token}` };
    const insightsUrl = `${harness.base}/ai/ringsense/v1/public/accounts/~/domains/pbx/records/${call.sourceRecordId}/insights`;
    await waitFor(async () => (await fetch(insightsUrl, { headers: auth })).status === 200, 5000);
    const insights = (await (await fetch(insightsUrl, { headers: auth })).json()) as {
      recordingStartTime: string;
      recordingDurationMs: number;
    };
    const { body } = await callLog(harness);
    expect(body.records).toHaveLength(1);
    expect(body.records[0]!.startTime).toBe(new Date(insights.recordingStartTime).toISOString());
    expect(body.records[0]!.duration).toBe(Math.round(insights.recordingDurationMs / 1000));
    expect(body.records[0]!.duration).toBeGreaterThan(0);
  });

  it('filters by dateFrom/dateTo and recordingType, pages with perPage/page, and refuses bad parameters', async () => {
    harness = await startEmulator({ ace: { insightsDelayMs: 30_000, aiNotesGapMs: 1000 } });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await simulate(harness, 'pbx')).sourceRecordId);
    const all = (await callLog(harness)).body.records.map((r) => r.recording.id);
    expect(new Set(all)).toEqual(new Set(ids));

    const pages: string[] = [];
    const p1 = (await callLog(harness, '?perPage=2&page=1')).body;
    expect(p1.paging).toMatchObject({ page: 1, perPage: 2, totalPages: 3, totalElements: 5 });
    expect(p1.navigation.previousPage).toBeUndefined();
    pages.push(...p1.records.map((r) => r.recording.id));
    let next = p1.navigation.nextPage?.uri;
    while (next) {
      const response = await fetch(next, { headers: { authorization: `Bearer ${harness.token}` } });
      const page = (await response.json()) as CallLogPage;
      pages.push(...page.records.map((r) => r.recording.id));
      next = page.navigation.nextPage?.uri;
    }
    expect(pages).toEqual(all);
    expect((await callLog(harness, '?perPage=2&page=4')).body.records).toEqual([]);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect((await callLog(harness, `?dateFrom=${future}`)).body.records).toEqual([]);
    expect((await callLog(harness, `?dateTo=${past}`)).body.records).toEqual([]);
    expect((await callLog(harness, `?dateFrom=${past}&dateTo=${future}`)).body.records).toHaveLength(5);
    expect((await callLog(harness, '?recordingType=OnDemand')).body.records).toEqual([]);
    expect((await callLog(harness, '?recordingType=Automatic')).body.records).toHaveLength(5);

    for (const bad of ['?dateFrom=yesterday', '?perPage=0', '?perPage=1001', '?page=x', '?recordingType=Some']) {
      const { status, body } = await callLog(harness, bad);
      expect(status, bad).toBe(400);
      expect(body.errorCode, bad).toBe('CMN-101');
    }
    expect((await callLog(harness, '', '/restapi/v1.0/account/12345/call-log')).status).toBe(404);
    expect((await fetch(`${harness.base}/restapi/v1.0/account/~/call-log`)).status).toBe(401);
  });
});
