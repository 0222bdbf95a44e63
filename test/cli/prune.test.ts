import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDbPath } from '../helpers/temp.js';

describe('jobhook prune', () => {
  it('forgets rejected submissions that received nothing, and keeps everything else', async () => {
    const dbPath = tempDbPath();
    const store = new SqliteStore({ path: dbPath });
    const make = async (requestId: string, state: 'rejected' | 'accepted' | 'unknown') => {
      await store.createRequest({ requestId, kind: 'job', callbackUrl: `http://x/${requestId}`, createdAtMs: 1 });
      await store.updateSubmission(requestId, { state, ...(state === 'rejected' ? { error: 'CAI-101' } : {}) });
    };
    await make('r-rejected', 'rejected');
    await make('r-rejected-but-delivered', 'rejected');
    await store.recordDeliveries([
      {
        requestId: 'r-rejected-but-delivered',
        source: 'webhook',
        body: Buffer.from('{}'),
        rawHeaders: [],
        receivedAtMs: 2,
      },
    ]);
    await make('r-accepted', 'accepted');
    await make('r-unknown', 'unknown');
    await store.close();

    expect(runCli(['requests', '--db', dbPath, '--state', 'rejected', '--json']).stdout).toContain('r-rejected');
    const pruned = runCli(['prune', '--db', dbPath, '--state', 'rejected', '--older-than', '0', '--json']);
    expect(pruned.status).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ pruned: 1, state: 'rejected' });
    const { requests: left } = JSON.parse(runCli(['requests', '--db', dbPath, '--json']).stdout) as {
      requests: { requestId: string }[];
    };
    expect(left.map((r) => r.requestId).sort()).toEqual(['r-accepted', 'r-rejected-but-delivered', 'r-unknown']);

    const refused = runCli(['prune', '--db', dbPath, '--state', 'succeeded']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/prune needs --state rejected or --state unknown/);
  });
});
