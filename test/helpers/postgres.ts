import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pg from 'pg';

/**
 * PostgreSQL for tests: reached only through JOBHOOK_TEST_DATABASE_URL (e.g.
 * `postgres://postgres@127.0.0.1:5432/test`); each test works in a schema of its own, created fresh and
 * dropped after, so test files run side by side in one database.
 */
export function pgTestUrl(): string | undefined {
  return process.env.JOBHOOK_TEST_DATABASE_URL || undefined;
}

/** Says once, visibly, why PostgreSQL tests are skipped; returns true when they must be. */
export function skipWithoutPostgres(what: string): boolean {
  if (pgTestUrl()) return false;
  console.warn(`${what}: skipped, JOBHOOK_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)`);
  return true;
}

export interface FreshSchema {
  url: string;
  schema: string;
  /** Runs SQL as the test's administrator (outside any store), in the test's schema. */
  sql: <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;
  /** Drops the schema and everything in it. */
  drop: () => Promise<void>;
}

/** A fresh, empty schema. With `create: false` only its name is reserved: the store's migration creates it. */
export async function freshSchema(options: { create?: boolean } = {}): Promise<FreshSchema> {
  const url = pgTestUrl();
  if (!url) throw new Error('JOBHOOK_TEST_DATABASE_URL is not set');
  const schema = `jh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  admin.on('error', () => undefined);
  await admin.connect();
  if (options.create !== false) await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    url,
    schema,
    sql: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      (await admin.query<R>(text, values)).rows,
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
  };
}

export interface PgProxy {
  /** The test database's URL with the proxy's port in it. */
  url: string;
  /** Refuses new connections and cuts every open one, as a stopped server would. */
  stop: () => Promise<void>;
  /** Listens again on the same port. */
  start: () => Promise<void>;
}

/**
 * A TCP relay in front of the test server: stopping it is, for a store, the database going away (open
 * connections cut, new ones refused) without stopping the server that other tests share.
 */
export async function pgProxy(): Promise<PgProxy> {
  const target = new URL(pgTestUrl()!);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const start = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await start();
  const url = new URL(target);
  url.port = String(port);
  return {
    url: url.toString(),
    start,
    stop: async () => {
      const s = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
