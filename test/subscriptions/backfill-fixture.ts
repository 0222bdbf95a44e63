import { afterEach, expect } from 'vitest';
import type { EmulatorConfig } from '../../src/emulator/options.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { createPlatform, type Platform, type PlatformAnswer } from '../../src/ringcentral/platform.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/** An emulator, a real SQLite store and a platform that records every GET it sends (path and time). */
export interface BackfillFixture {
  emulator: Emulator;
  base: string;
  store: SqliteStore;
  platform: Platform;
  gets: { path: string; atMs: number; status: number }[];
  /** GETs of ACE insights records (not the call log). */
  aceReads(): { path: string; atMs: number; status: number }[];
  simulate(domain: string, withAiNotes?: boolean): Promise<{ sourceRecordId: string; sourceSessionId: string }>;
  /** Waits until the emulator published every planned version of every simulated call. */
  published(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

export async function startBackfillFixture(config: EmulatorConfig = {}): Promise<BackfillFixture> {
  const emulator = createEmulator({ ace: { insightsDelayMs: 10, aiNotesGapMs: 30 }, ...config });
  const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  open.push(emulator);
  const store = new SqliteStore({ path: tempDbPath() });
  open.push(store);
  const inner = createPlatform({ server: base, clientId: 'id', clientSecret: 'secret', jwt: fakeJwt() });
  open.push(inner);
  const gets: BackfillFixture['gets'] = [];
  const platform: Platform = {
    ...inner,
    async get(path: string): Promise<PlatformAnswer> {
      const answer = await inner.get(path);
      gets.push({ path, atMs: Date.now(), status: answer.status });
      return answer;
    },
  };
  return {
    emulator,
    base,
    store,
    platform,
    gets,
    aceReads: () => gets.filter((g) => g.path.startsWith('/ai/ringsense/')),
    async simulate(domain, withAiNotes = false) {
      const response = await fetch(`${base}/_emulator/ace/calls`, {
        method: 'POST',
        body: JSON.stringify({ domain, withAiNotes }),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { sourceRecordId: string; sourceSessionId: string };
    },
    async published() {
      await waitFor(async () => {
        const { calls } = (await (await fetch(`${base}/_emulator/ace/calls`)).json()) as {
          calls: { versions: unknown[]; plannedEvents: number }[];
        };
        return calls.every((c) => c.versions.length === c.plannedEvents);
      }, 5000);
    },
  };
}
