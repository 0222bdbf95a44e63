import { readdirSync, readFileSync } from 'node:fs';

/** A numbered SQL migration (`0001_init.sql`): both stores keep theirs in a `migrations/` folder beside them. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The folder's migrations in order; a file not named `NNNN_name.sql` is not one. */
export function readMigrationFiles(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(dir + file, 'utf8') }));
}
