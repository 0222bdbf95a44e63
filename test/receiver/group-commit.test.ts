import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../src/receiver/group-commit.js';

describe('group commit', () => {
  it('writes everything queued in one turn of the event loop as one batch', async () => {
    const batches: number[][] = [];
    const commit = createGroupCommit<number, string>(async (items) => {
      batches.push(items);
      return items.map((i) => `ok ${i}`);
    });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => commit.add(i)));
    expect(batches).toHaveLength(1);
    expect(results[49]).toBe('ok 49');
  });

  it('queues newcomers behind a write in progress and respects maxBatch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = createGroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items;
      },
      { maxBatch: 3 },
    );
    const first = commit.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4, 5].map((i) => commit.add(i));
    expect(commit.pending).toBe(5);
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    expect(commit.pending).toBe(0);
  });

  it('rejects only the failed batch and recovers on the next one', async () => {
    let fail = true;
    const commit = createGroupCommit<number, number>(async (items) => {
      if (fail) throw new Error('disk full');
      return items;
    });
    const failed = Promise.allSettled([commit.add(1), commit.add(2)]);
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(commit.add(3)).resolves.toBe(3);
    await commit.drain();
  });
});
