import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { JobhookError } from '../../errors.js';
import { readMigrationFiles, type Migration } from '../migration-files.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readMigrationFiles(dir);
}

/**
 * Applies pending migrations, each in its own IMMEDIATE transaction that also records its version,
 * so two processes opening the same file at once cannot both apply one (the loser re-checks under the lock).
 */
export function migrate(db: Database.Database, migrations: Migration[] = readMigrations()): void {
  db.exec(`CREATE TABLE IF NOT EXISTS jobhook_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  // A database a newer jobhook migrated has tables this code does not know how to keep consistent (graphile-
  // worker refuses the same way): stop before touching it rather than write rows the newer code misreads.
  const newest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const ahead = db
    .prepare<[number], { version: number; name: string }>(
      'SELECT version, name FROM jobhook_migrations WHERE version > ? ORDER BY version DESC LIMIT 1',
    )
    .get(newest);
  if (ahead) {
    throw new JobhookError(
      'JH_ERR_MIGRATION_FAILED',
      `the database is at schema ${ahead.version} (${ahead.name}), newer than this jobhook knows (${newest}): ` +
        'it was opened by a newer jobhook; upgrade this one, or use another --db',
    );
  }
  const applied = db.prepare<[number], { version: number }>('SELECT version FROM jobhook_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO jobhook_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    const apply = db.transaction(() => {
      if (applied.get(migration.version)) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    });
    try {
      apply.immediate();
    } catch (error) {
      throw new JobhookError('JH_ERR_MIGRATION_FAILED', `migration ${migration.name} failed`, { cause: error });
    }
  }
}
