import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isJobhookError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDbPath } from '../helpers/temp.js';

describe('migrations', () => {
  it('refuse a database a newer jobhook migrated, before touching it', async () => {
    const path = tempDbPath();
    await new SqliteStore({ path }).close();
    const db = new Database(path);
    db.prepare('INSERT INTO jobhook_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      99,
      '0099_from_the_future.sql',
      Date.now(),
    );
    const tables = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get();
    db.close();

    let thrown: unknown;
    try {
      new SqliteStore({ path });
    } catch (error) {
      thrown = error;
    }
    expect(isJobhookError(thrown, 'JH_ERR_MIGRATION_FAILED')).toBe(true);
    expect((thrown as Error).message).toMatch(/schema 99 \(0099_from_the_future\.sql\), newer than this jobhook knows/);
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(tables);
    after.close();

    const cli = runCli(['requests', '--db', path]);
    expect(cli.status).toBe(7);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/upgrade this one, or use another --db/);
  });
});
