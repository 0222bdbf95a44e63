import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { insightsCommand } from '../../src/cli/insights-command.js';
import { parseInvocation } from '../../src/config.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { isJobhookError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

/**
 * `jobhook insights`: one ACE record read back through REST when it is not stored (then stored as a webhook's
 * would be), printed; the stored records listed. Run in-process against the emulator, its credentials
 * being the local emulator's (only RC_SERVER_URL set, on loopback).
 */
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function collect(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function setup() {
  emulator = createEmulator({ ace: { insightsDelayMs: 10, aiNotesGapMs: 20 } });
  const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const call = await fetch(`${base}/_emulator/ace/calls`, {
    method: 'POST',
    body: JSON.stringify({ domain: 'pbx', withAiNotes: true }),
  });
  const { sourceRecordId } = (await call.json()) as { sourceRecordId: string };
  await waitFor(async () => {
    const { calls } = (await (await fetch(`${base}/_emulator/ace/calls`)).json()) as {
      calls: { versions: unknown[] }[];
    };
    return calls[0]?.versions.length === 2;
  });
  const dbPath = tempDbPath();
  const env = { RC_SERVER_URL: base };
  const run = async (argv: string[]) => {
    const { command, args, config } = parseInvocation(
      ['insights', ...argv, '--db', dbPath, '--log-level', 'silent'],
      env,
    );
    expect(command).toBe('insights');
    const { out, text } = collect();
    const err = collect();
    const code = await insightsCommand(config, args, out, { env, err: err.out });
    return { code, stdout: text(), stderr: err.text() };
  };
  return { base, sourceRecordId, dbPath, run };
}

describe('jobhook insights', () => {
  it('reads a missing record back through REST, stores it once, prints it; then lists it', async () => {
    const { sourceRecordId, dbPath, run } = await setup();
    const first = await run(['pbx', sourceRecordId]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('local emulator');
    const lines = first.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^pbx ${sourceRecordId}  Call from .+ to .+`));
    expect(first.stdout).toContain('via REST read-back');
    for (const heading of ['Speakers:', 'Summary:', 'Highlights:', 'Next steps:'])
      expect(first.stdout).toContain(heading);
    expect(first.stdout).toMatch(/^AI score: \d+$/m);

    // Stored now: the second run reads the store, not the platform (the emulator could be gone).
    await emulator!.close();
    emulator = undefined;
    const json = await run(['pbx', sourceRecordId, '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const shown = JSON.parse(json.stdout) as {
      record: { source: string; versions: number };
      insights: { sourceRecordId: string; insights: { CallNotes?: unknown[]; Highlights?: unknown[] } };
    };
    expect(shown.record).toMatchObject({ source: 'status-poll', versions: 1 });
    expect(shown.insights.sourceRecordId).toBe(sourceRecordId);
    // The newest version (the AI Notes call's fuller second one), with the spec's Highlights spelling.
    expect(shown.insights.insights.Highlights?.length).toBeGreaterThan(0);

    const store = new SqliteStore({ path: dbPath });
    try {
      const insights = await store.listInsights();
      expect(insights).toHaveLength(1);
      expect(await store.listDeliveries(insights[0]!.requestId)).toHaveLength(1);
    } finally {
      await store.close();
    }

    const listed = await run([]);
    expect(listed.stdout.split('\n')[0]).toMatch(/^UPDATED\s+DOMAIN\s+SOURCE RECORD ID\s+VERSIONS\s+VIA\s+TITLE$/);
    expect(listed.stdout).toContain(`pbx     ${sourceRecordId}`);
    const listedJson = JSON.parse((await run(['--json'])).stdout) as { insights: { sourceRecordId: string }[] };
    expect(listedJson.insights.map((r) => r.sourceRecordId)).toEqual([sourceRecordId]);
  });

  it('names a record the platform does not have (JH_ERR_NOT_FOUND), and refuses a wrong domain or usage', async () => {
    const { run } = await setup();
    const missing = await run(['pbx', '1234567890123']).catch((e: unknown) => e);
    expect(isJobhookError(missing, 'JH_ERR_NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toContain('404');
    const domain = await run(['phone', '1']).catch((e: unknown) => e);
    expect(isJobhookError(domain, 'JH_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((domain as Error).message).toContain('pbx, rcv, rcx, ms-teams, nice-incontact');
    const usage = await run(['pbx']).catch((e: unknown) => e);
    expect(isJobhookError(usage, 'JH_ERR_INVALID_ARGUMENT')).toBe(true);
    const empty = await run([]);
    expect(empty.stdout).toContain('no ACE insight records stored yet');
  });
});
