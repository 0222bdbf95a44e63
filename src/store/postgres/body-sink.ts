import { randomUUID } from 'node:crypto';
import { JobhookError } from '../../errors.js';
import type { SpooledBody } from '../../types.js';
import type { BodySink } from '../store.js';

/**
 * Large bodies on PostgreSQL live in the database, like small ones: every instance of a fleet must read
 * them, and no instance can read another's disk. A sink therefore only gathers the chunks in memory while
 * the body arrives; `finish()` hands back a reference that this same store resolves to the bytes when the
 * delivery is recorded (the commit is what makes them durable). The receiver caps body sizes, so memory
 * holds at most its in-flight bodies. Nothing is parsed off the event loop here: the indexing pass parses
 * from the database (`listUnparsedSpooled` is always empty).
 */
export class MemoryBodies {
  readonly #finished = new Map<string, Buffer>();

  open(): BodySink {
    return new MemorySink((body) => {
      const file = `pg-memory:${randomUUID()}`;
      this.#finished.set(file, body);
      return { file, bytes: body.length };
    });
  }

  /** The bytes of a finished sink; a reference this store never made, or already dropped, is refused. */
  bytesOf(body: SpooledBody): Buffer {
    const bytes = this.#finished.get(body.file);
    if (!bytes) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `the spooled body ${body.file} is unknown to this store (discarded, already recorded, or from another store)`,
      );
    }
    return bytes;
  }

  /** Drops references once their delivery committed, or when it will not be recorded. */
  forget(bodies: readonly SpooledBody[]): void {
    for (const body of bodies) this.#finished.delete(body.file);
  }
}

/** States: open (chunks gathered) → finished (handed to the store) | discarded. */
class MemorySink implements BodySink {
  #chunks: Buffer[] = [];
  #ended = false;

  constructor(readonly onFinish: (body: Buffer) => SpooledBody) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.#ended) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'the body sink already ended');
    this.#chunks.push(chunk);
  }

  async finish(): Promise<SpooledBody> {
    if (this.#ended) throw new JobhookError('JH_ERR_INVALID_ARGUMENT', 'the body sink already ended');
    this.#ended = true;
    const body = Buffer.concat(this.#chunks);
    this.#chunks = [];
    return this.onFinish(body);
  }

  async discard(): Promise<void> {
    this.#ended = true;
    this.#chunks = [];
  }
}
