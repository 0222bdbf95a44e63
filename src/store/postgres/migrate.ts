import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JobhookError } from '../../errors.js';
import { readMigrationFiles, type Migration } from '../migration-files.js';
import { isConnectionError, toStoreError } from './errors.js';
import { schemaKey } from './database.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export type { Migration } from '../migration-files.js';

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readMigrationFiles(dir);
}

/** The advisory lock of a schema's migrations: a fixed 64-bit key every instance derives alike. */
function lockKey(schema: string): string {
  return BigInt.asIntN(64, BigInt(`0x${schemaKey(schema, 'migrate').slice(0, 16)}`)).toString();
}

/**
 * Applies pending migrations on one connection, under a session advisory lock keyed by the schema, so
 * instances that start together migrate once: the others wait for the lock, then find every version
 * recorded. Each file runs in its own transaction that also records its version. `client` must be
 * connected with the store's search_path.
 */
export async function migrate(
  client: pg.Client,
  schema: string,
  migrations: Migration[] = readMigrations(),
): Promise<void> {
  const key = lockKey(schema);
  try {
    // A migration may take longer than the store's statement timeout on a large table.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
  } catch (error) {
    throw toStoreError(error, 'lock the schema for migrations');
  }
  try {
    // Created only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS jobhook_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM jobhook_migrations');
    const applied = new Set(rows.map((r) => r.version));
    // A schema a newer jobhook migrated has tables this code does not know how to keep consistent: stop
    // before touching it rather than write rows the newer code misreads (as the SQLite store does).
    const newest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    const ahead = await client.query<{ version: number; name: string }>(
      'SELECT version, name FROM jobhook_migrations WHERE version > $1 ORDER BY version DESC LIMIT 1',
      [newest],
    );
    if (ahead.rows[0]) {
      const { version, name } = ahead.rows[0];
      throw new JobhookError(
        'JH_ERR_MIGRATION_FAILED',
        `the database is at schema ${version} (${name}), newer than this jobhook knows (${newest}): ` +
          'it was opened by a newer jobhook; upgrade this one, or use another --db',
      );
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO jobhook_migrations (version, name, applied_at)
           VALUES ($1, $2, (extract(epoch from clock_timestamp()) * 1000)::bigint)`,
          [migration.version, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (isConnectionError(error)) throw error;
        throw new JobhookError(
          'JH_ERR_MIGRATION_FAILED',
          `migration ${migration.name} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
  } catch (error) {
    if (error instanceof JobhookError || isConnectionError(error)) throw toStoreError(error, 'migrate the database');
    // Anything else (no right to create the schema, a table of that name made by something else) needs a
    // person: the same code as a failed migration file.
    throw new JobhookError('JH_ERR_MIGRATION_FAILED', `cannot migrate the database: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
  }
}
