import { statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Notices that the database file or its `-wal` file was removed or replaced while the store has it open.
 * SQLite keeps its descriptors on the old inodes and goes on committing into them without an error, so
 * every acknowledgement after that would be lost at the next start (measured: 189 acked, 0 stored). A
 * `stat` costs microseconds, so the store checks before every fsync'd commit and on a periodic probe.
 *
 * The WAL is never deleted while this connection is open: SQLite removes it only when the last
 * connection closes, and a checkpoint truncates it in place (same inode). So a missing or different WAL
 * always means someone else removed or replaced it.
 */
export class FileGuard {
  readonly #files: { path: string; identity: string }[];

  private constructor(files: { path: string; identity: string }[]) {
    this.#files = files;
  }

  /** Records (dev, ino) of `dbPath` and its WAL as they are now; null for in-memory or URI databases. */
  static watch(dbPath: string): FileGuard | null {
    if (dbPath === '' || dbPath === ':memory:' || dbPath.startsWith('file:')) return null;
    // Resolved once: SQLite opened the file relative to the working directory of this moment.
    const db = resolve(dbPath);
    const files: { path: string; identity: string }[] = [];
    // The spool folder of large bodies too: without it, acknowledged large bodies are gone as well.
    for (const path of [db, `${db}-wal`, `${db}-bodies`]) {
      const identity = identityOf(path);
      if (identity !== null) files.push({ path, identity });
    }
    return new FileGuard(files);
  }

  /** Describes the first watched file that is gone or is now another file; null when all are in place. */
  check(): string | null {
    for (const { path, identity } of this.#files) {
      const now = identityOf(path);
      const [what, other] = path.endsWith('-bodies') ? ['the spool folder', 'folder'] : ['the database file', 'file'];
      if (now === null) return `${what} ${path} was removed while open`;
      if (now !== identity) return `${what} ${path} was replaced by another ${other} while open`;
    }
    return null;
  }
}

function identityOf(path: string): string | null {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stats ? `${stats.dev}:${stats.ino}` : null;
}
