import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { JobhookError } from '../../errors.js';
import type { SpooledBody } from '../../types.js';
import type { BodySink } from '../store.js';

/**
 * Large bodies live in files beside the database (`<db>-bodies/`), not in it. better-sqlite3 writes on the
 * event loop, so a 28 MiB blob in a commit — copied into the WAL and fsync'd there, then copied again by the
 * checkpoint — held every acknowledgement behind it for hundreds of milliseconds. A spool file is written
 * chunk by chunk as the body arrives, through libuv's thread pool, and fsync'd there (file, then directory,
 * so the name survives a crash too); the commit that follows only records its name. The row is the
 * commit point: a file without a row (a crash between the two) is an orphan, swept at the next open once
 * it is old enough that no other live process can still be about to commit it.
 */
export class BodySpool {
  readonly dir: string;

  constructor(databasePath: string) {
    this.dir = `${databasePath}-bodies`;
    mkdirSync(this.dir, { recursive: true });
  }

  pathOf(file: string): string {
    if (!/^[\w.-]+$/.test(file)) throw new JobhookError('JH_ERR_STORE_UNAVAILABLE', `bad spool file name ${file}`);
    return join(this.dir, file);
  }

  async open(): Promise<BodySink> {
    const file = `${Date.now()}-${randomUUID()}.body`;
    const path = this.pathOf(file);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      throw unavailable(`open a spool file in ${this.dir}`, error);
    }
    return new SpoolSink(handle, file, path, this.dir);
  }

  async read(file: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(file));
    } catch (error) {
      throw unavailable(`read the spooled body ${file}`, error);
    }
  }

  /** For callers that parse on the event loop by choice (CLI commands, reconciliation); see `indexDeliveries`. */
  readSync(file: string): Buffer {
    try {
      return readFileSync(this.pathOf(file));
    } catch (error) {
      throw unavailable(`read the spooled body ${file}`, error);
    }
  }

  async remove(files: readonly string[]): Promise<void> {
    await Promise.all(files.map((f) => unlink(this.pathOf(f)).catch(() => undefined)));
  }

  /** Deletes spool files older than `olderThanMs` that no row references; returns how many. */
  async sweepOrphans(isReferenced: (file: string) => boolean, olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const file of await readdir(this.dir).catch(() => [] as string[])) {
      if (!file.endsWith('.body') || isReferenced(file)) continue;
      const info = await stat(join(this.dir, file)).catch(() => null);
      if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
      await unlink(join(this.dir, file)).catch(() => undefined);
      removed++;
    }
    return removed;
  }
}

/**
 * States: open (writes chained in order) → finished (fsync'd, closed) | discarded (closed, unlinked).
 * Chunks that arrive while a write is in progress join one batch, written with a single `writev` when its
 * turn comes: a 28 MiB body costs the event loop a few dozen thread-pool round trips, not one per socket read.
 */
class SpoolSink implements BodySink {
  #chain: Promise<void> = Promise.resolve();
  #batch: Buffer[] | null = null;
  #batchWritten: Promise<void> = Promise.resolve();
  #bytes = 0;
  #failure: unknown = null;
  #ended = false;

  constructor(
    readonly handle: FileHandle,
    readonly file: string,
    readonly path: string,
    readonly dir: string,
  ) {}

  write(chunk: Buffer): Promise<void> {
    if (this.#ended) return Promise.reject(new Error('spool sink already ended'));
    this.#bytes += chunk.length;
    if (!this.#batch) {
      const batch: Buffer[] = [];
      this.#batch = batch;
      this.#batchWritten = this.#chain = this.#chain.then(async () => {
        // The batch closes when its write starts; later chunks open the next one.
        if (this.#batch === batch) this.#batch = null;
        if (this.#failure) throw unavailable(`write the spooled body ${this.file}`, this.#failure);
        const expected = batch.reduce((n, b) => n + b.length, 0);
        try {
          const { bytesWritten } = await this.handle.writev(batch);
          if (bytesWritten !== expected) throw new Error(`short write (${bytesWritten} of ${expected} bytes)`);
        } catch (error) {
          this.#failure = error;
        }
        // The writer pauses its source on each write: a failure must reach it now, not at finish().
        if (this.#failure) throw unavailable(`write the spooled body ${this.file}`, this.#failure);
      });
      // The chain itself stays usable for finish()/discard(), which look at #failure.
      this.#chain = this.#chain.catch(() => undefined);
    }
    this.#batch.push(chunk);
    return this.#batchWritten;
  }

  async finish(): Promise<SpooledBody> {
    this.#ended = true;
    await this.#chain;
    try {
      if (this.#failure) throw toError(this.#failure);
      await this.handle.sync();
      await this.handle.close();
      await syncDirectory(this.dir);
    } catch (error) {
      await this.#drop();
      throw unavailable(`write the spooled body ${this.file}`, error);
    }
    return { file: this.file, bytes: this.#bytes };
  }

  async discard(): Promise<void> {
    this.#ended = true;
    await this.#chain;
    await this.#drop();
  }

  async #drop(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function unavailable(what: string, cause: unknown): JobhookError {
  return new JobhookError('JH_ERR_STORE_UNAVAILABLE', `cannot ${what}: ${(cause as Error).message}`, { cause });
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
