import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { pgTestUrl } from './postgres.js';

/**
 * Stops and starts the real PostgreSQL server the tests use (Debian's `pg_ctlcluster`, as root): an outage
 * no proxy imitates (the server's own shutdown terminates every backend, the port is closed, restarted
 * with its data). Every other PostgreSQL test shares this server, so a file using this must run alone.
 */
export interface PgCluster {
  version: string;
  name: string;
  /** Resolve once pg_ctlcluster returns (asynchronously: the test's senders keep sending meanwhile). */
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

/** The cluster listening at JOBHOOK_TEST_DATABASE_URL's port, or why it cannot be controlled from here. */
export function localCluster(): PgCluster | { unavailable: string } {
  const url = pgTestUrl();
  if (!url) return { unavailable: 'JOBHOOK_TEST_DATABASE_URL is not set' };
  if (process.getuid?.() !== 0) return { unavailable: 'not running as root (pg_ctlcluster needs it)' };
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return { unavailable: `the test database is not local (${host})` };
  const listed = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
  if (listed.error || listed.status !== 0) return { unavailable: 'pg_lsclusters/pg_ctlcluster are not installed' };
  const port = new URL(url).port || '5432';
  const row = listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[2] === port);
  if (!row) return { unavailable: `no local cluster listens on port ${port}` };
  const [version, name] = row as [string, string];
  const control = async (action: 'stop' | 'start'): Promise<void> => {
    // --skip-systemctl-redirect: act on the cluster directly (no systemd here); stop's default mode is fast.
    await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action], {
      timeout: 60_000,
    });
  };
  return { version, name, stop: () => control('stop'), start: () => control('start') };
}

/** Starts the cluster unless it runs (`start` on a running cluster fails, so this may be called any time). */
export async function ensureStarted(cluster: PgCluster): Promise<void> {
  const status = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'status']);
  if (status.status !== 0) await cluster.start();
}

/** Resolves once a new connection to the test database answers `SELECT 1`, polling up to `timeoutMs`. */
export async function waitUntilAccepting(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: pgTestUrl(), connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * One query on a new connection, in `schema`: a connection opened before the server was stopped (such as
 * freshSchema's) is dead after it.
 */
export async function queryOnce<R extends pg.QueryResultRow>(schema: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: pgTestUrl(), options: `-c search_path=${schema}` });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
