/**
 * Group commit: callers that arrive while the event loop is busy share one write.
 *
 * States: idle (nothing queued) → scheduled (a flush waits for setImmediate, so every request already
 * readable in this turn of the loop joins the batch) → writing (one `write` call in flight; newcomers
 * queue for the next batch) → idle or scheduled again. A failed write rejects every caller of that
 * batch, and only them: the next batch tries again, so the writer recovers when the database does.
 */
export interface GroupCommit<T, R> {
  /** Queues one item; resolves with its result once the batch holding it is durable. */
  add(item: T): Promise<R>;
  /** Resolves when nothing is queued or being written. */
  drain(): Promise<void>;
  /** Items queued or being written. */
  readonly pending: number;
}

interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<T, R>(
  write: (items: T[]) => Promise<R[]>,
  options: {
    /** @defaultValue 1000 */
    maxBatch?: number;
  } = {},
): GroupCommit<T, R> {
  const maxBatch = options.maxBatch ?? 1000;
  let queue: Waiter<T, R>[] = [];
  let writing = 0;
  let scheduled = false;
  let drained: (() => void)[] = [];

  const schedule = (): void => {
    if (scheduled || writing > 0 || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  const settleDrain = (): void => {
    if (queue.length === 0 && writing === 0 && !scheduled) {
      const waiting = drained;
      drained = [];
      for (const done of waiting) done();
    }
  };

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    writing = batch.length;
    try {
      const results = await write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      writing = 0;
      schedule();
      settleDrain();
    }
  }

  return {
    add(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    drain(): Promise<void> {
      return new Promise<void>((resolve) => {
        drained.push(resolve);
        settleDrain();
      });
    },
    get pending(): number {
      return queue.length + writing;
    },
  };
}
