import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/callback/request-id.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

/**
 * Submissions in flight belong to a live process (issue #11: `jobhook submit` beside `jobhook dev` marked each
 * other's work interrupted). A real second process holds a submission `submitting` here; this one must leave
 * it alone while that process lives and heartbeats, and take it for interrupted once it was killed (at once:
 * same machine, pid gone) or stopped heartbeating (frozen with SIGSTOP: after the lease).
 */
const CHILD = `
  const { SqliteStore } = await import(process.argv[1]);
  const store = new SqliteStore({ path: process.argv[2], instanceLeaseMs: Number(process.argv[4]) });
  await store.createRequest({ requestId: process.argv[3], kind: 'job', callbackUrl: 'http://x/' });
  await store.updateSubmission(process.argv[3], { state: 'submitting' });
  process.stdout.write('submitting\\n');
  setInterval(() => {}, 1000);
`;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function submittingChild(path: string, requestId: string, leaseMs: number): Promise<ChildProcess> {
  const storeModule = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, storeModule, path, requestId, String(leaseMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  expect(line.toString()).toBe('submitting\n');
  return child;
}

describe('SqliteStore: another process’s submissions in flight', () => {
  it('are left alone while it lives, and marked unknown at once after it is killed', async () => {
    const path = tempDbPath();
    const requestId = newRequestId();
    const child = await submittingChild(path, requestId, 30_000);
    const store = new SqliteStore({ path });
    expect(await store.markInterruptedSubmissions()).toEqual([]);
    expect(await store.findRequest(requestId)).toMatchObject({ submitState: 'submitting' });
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await store.markInterruptedSubmissions()).toEqual([requestId]);
    expect(await store.findRequest(requestId)).toMatchObject({ submitState: 'unknown' });
    await store.close();
  });

  it('are marked unknown once its heartbeat is older than the lease (a frozen process)', async () => {
    const path = tempDbPath();
    const requestId = newRequestId();
    const child = await submittingChild(path, requestId, 600);
    const store = new SqliteStore({ path, instanceLeaseMs: 600 });
    await new Promise((resolve) => setTimeout(resolve, 900));
    // Still heartbeating after more than one lease: alive.
    expect(await store.markInterruptedSubmissions()).toEqual([]);
    child.kill('SIGSTOP');
    await waitFor(async () => (await store.markInterruptedSubmissions()).length > 0, 5000);
    expect(await store.findRequest(requestId)).toMatchObject({ submitState: 'unknown' });
    child.kill('SIGCONT');
    await store.close();
  });
});
