import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.js';
import { freshSchema, skipWithoutPostgres, type FreshSchema } from '../helpers/postgres.js';
import { schemaDbUrl } from '../helpers/fleet-instances.js';

/** The CLI on a PostgreSQL URL, as an operator types it (found testing from outside, issue #11). */
describe.skipIf(skipWithoutPostgres('CLI on PostgreSQL'))('the CLI on a PostgreSQL URL', () => {
  let fresh: FreshSchema | null = null;
  afterEach(async () => {
    await fresh?.drop();
    fresh = null;
  });

  it('refuses read commands on a schema jobhook never migrated, creating nothing (a mistyped ?schema=)', async () => {
    fresh = await freshSchema({ create: false });
    const db = schemaDbUrl(fresh);
    for (const args of [['requests'], ['show', 'x'], ['reconcile']]) {
      const run = runCli([...args, '--db', db]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(`no jobhook schema "${fresh.schema}"`);
    }
    const schemas = await fresh.sql('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [fresh.schema]);
    expect(schemas).toEqual([]);
    // mint creates it (it is how a fleet starts), and then the read commands work.
    expect(runCli(['mint', '--db', db, '--public-url', 'https://hooks.example.com']).status).toBe(0);
    const listed = runCli(['requests', '--db', db, '--json']);
    expect(listed.status).toBe(0);
    expect((JSON.parse(listed.stdout) as { requests: unknown[] }).requests).toHaveLength(1);
  });
});
