import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/cli-process.js';
import { spawnCli, startCli } from '../helpers/fleet-instances.js';
import { startHoldingProxy } from '../helpers/fleet-proxy.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Issue #11, §4: `jobhook submit` beside `jobhook dev` on one SQLite file. A submission in flight (its POST
 * held by a relay in front of dev's emulator) belongs to a live process: no other process that opens a
 * client (`submit`, `reconcile`) marks it `unknown`. A submit killed -9 mid-POST is a
 * process of this machine that is gone: the next process marks its submission `unknown` at once, without
 * waiting for the 30 s heartbeat lease.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

interface Submission {
  request_id: string;
  submit_state: string;
  submit_owner: string | null;
  state: string;
  job_id: string | null;
}

function submissions(dbPath: string): Submission[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        "SELECT request_id, submit_state, submit_owner, state, job_id FROM requests WHERE submit_state <> 'minted' ORDER BY created_at",
      )
      .all() as Submission[];
  } finally {
    db.close();
  }
}

const ownedBy = (pid: number | undefined) => (s: Submission) => s.submit_owner?.split('/')[1] === String(pid);

describe('jobhook submit beside jobhook dev on one SQLite file', () => {
  it('leaves a live submission alone whoever opens a client, and marks a killed one unknown at once', async () => {
    const dir = tempDir();
    const dbPath = join(dir, 'jobhook.db');
    const bodyFile = join(dir, 'punctuate.json');
    writeFileSync(bodyFile, JSON.stringify({ texts: ['hello from beside dev how are you'] }));
    const emulatorPort = await closedPort();
    const dev = await startServer(
      ['--db', dbPath, '--emulator-port', String(emulatorPort), '--log-format', 'json'],
      'dev',
    );
    cleanups.push(async () => dev.child.kill('SIGKILL'));
    const proxy = await startHoldingProxy(`http://127.0.0.1:${emulatorPort}`);
    cleanups.push(() => proxy.close());
    const viaRelay = { RC_SERVER_URL: proxy.url };
    const direct = { RC_SERVER_URL: `http://127.0.0.1:${emulatorPort}` };
    const submit = (wait: boolean) =>
      startCli(
        ['submit', 'punctuate', '--body', bodyFile, '--db', dbPath, '--json', ...(wait ? ['--wait'] : [])],
        viaRelay,
      );

    // S1 (with --wait) mid-POST; then S2 opens its client (and marks interrupted submissions) and is held too.
    const s1 = submit(true);
    cleanups.push(async () => s1.child.kill('SIGKILL'));
    await proxy.waitHeld(1);
    const s2 = submit(false);
    cleanups.push(async () => s2.child.kill('SIGKILL'));
    await proxy.waitHeld(2);
    expect(submissions(dbPath).map((s) => s.submit_state)).toEqual(['submitting', 'submitting']);
    const [first, second] = submissions(dbPath);
    expect(ownedBy(s1.child.pid)(first!)).toBe(true);
    expect(ownedBy(s2.child.pid)(second!)).toBe(true);

    // Another command that opens a client (and so marks interrupted submissions) starts and stops. (Not a
    // dev restart: its embedded emulator would forget the submits' logins.)
    const reconcile = await spawnCli(['reconcile', '--older-than', '0', '--db', dbPath], direct);
    expect(reconcile.status, reconcile.stderr).toBe(0);
    expect(submissions(dbPath).map((s) => s.submit_state)).toEqual(['submitting', 'submitting']);

    // Released: both are accepted, and S1's result arrives through dev.
    proxy.release();
    const [r1, r2] = await Promise.all([s1.done, s2.done]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r1.status, r1.stderr).toBe(0);
    const printed = JSON.parse(r1.stdout) as { requestId: string; jobId: string; result: { texts: string[] } };
    expect(printed.requestId).toBe(first!.request_id);
    expect(printed.result.texts.join(' ')).toMatch(/^Hello from beside dev how are you[.?]$/);
    const after = submissions(dbPath);
    expect(after.map((s) => s.submit_state)).toEqual(['accepted', 'accepted']);
    expect(after[0]!.state).toBe('succeeded');
    expect(after[0]!.job_id).toBe(printed.jobId);

    // S3 killed -9 mid-POST: the next process to open a client marks it unknown, well inside the 30 s lease.
    proxy.hold();
    const s3 = submit(true);
    await proxy.waitHeld(1);
    const held = submissions(dbPath).find(ownedBy(s3.child.pid));
    expect(held?.submit_state).toBe('submitting');
    s3.child.kill('SIGKILL');
    expect((await s3.done).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    expect(submissions(dbPath).find((s) => s.request_id === held!.request_id)?.submit_state).toBe('submitting');
    const next = await spawnCli(['reconcile', '--older-than', '0', '--db', dbPath], direct);
    expect(next.status, next.stderr).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(30_000); // else the lease, not the dead pid, could have decided
    const marked = submissions(dbPath);
    expect(marked.find((s) => s.request_id === held!.request_id)?.submit_state).toBe('unknown');
    expect(marked.filter((s) => s.submit_state === 'unknown')).toHaveLength(1);
    proxy.release();
  }, 90_000);
});
