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
  /**
   * Stops forwarding, both ways and for good, on the open connections whose startup message contains
   * `startup` (e.g. an application_name) without closing them: no FIN, no RST, as a NAT or load balancer
   * that forgot the flow. Returns how many connections it caught.
   */
  blackhole: (startup: string) => number;
  /**
   * Arms a one-shot fault: the next `COMMIT` any connection sends reaches the server, the server's answer is
   * swallowed and the connection is then cut (the transaction committed, the client never hears so).
   * Resolves once that happened.
   */
  loseNextCommitReply: () => Promise<void>;
}

interface Flow {
  client: Socket;
  upstream: Socket;
  /** The first bytes the client sent (its startup message), as latin1. */
  head: string;
  dead: boolean;
  /** Set once this flow's COMMIT went through: its answer is dropped and the flow cut. */
  swallow: (() => void) | null;
}

/** A simple-protocol Query message carrying exactly `COMMIT` (what `client.query('COMMIT')` sends). */
const COMMIT_QUERY = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);

/** Forwards `data` from one socket to the other, pausing the reader while the writer's buffer is full. */
function forward(from: Socket, to: Socket, data: Buffer): void {
  if (!to.write(data)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

/**
 * A TCP relay in front of the test server: stopping it is, for a store, the database going away (open
 * connections cut, new ones refused) without stopping the server that other tests share; it can also
 * blackhole chosen connections and lose a COMMIT's answer.
 */
export async function pgProxy(): Promise<PgProxy> {
  const target = new URL(pgTestUrl()!);
  const flows = new Set<Flow>();
  let server: Server | null = null;
  let port = 0;
  let commitArmed: (() => void) | null = null;
  const start = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      const flow: Flow = { client, upstream, head: '', dead: false, swallow: null };
      flows.add(flow);
      for (const socket of [client, upstream]) {
        socket.on('error', () => undefined);
        socket.on('close', () => {
          flows.delete(flow);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (data: Buffer) => {
        if (flow.head.length < 4096) flow.head += data.toString('latin1');
        if (flow.dead) return;
        forward(client, upstream, data);
        if (commitArmed && data.includes(COMMIT_QUERY)) {
          flow.swallow = commitArmed;
          commitArmed = null;
        }
      });
      upstream.on('data', (data: Buffer) => {
        if (flow.dead) return;
        if (flow.swallow) {
          // The server answered the COMMIT, so it committed: that answer never reaches the client.
          const done = flow.swallow;
          flow.dead = true;
          client.destroy();
          upstream.destroy();
          done();
          return;
        }
        forward(upstream, client, data);
      });
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
      for (const flow of flows) {
        flow.client.destroy();
        flow.upstream.destroy();
      }
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    blackhole: (startup) => {
      let caught = 0;
      for (const flow of flows) {
        if (!flow.head.includes(startup)) continue;
        flow.dead = true;
        caught++;
      }
      return caught;
    },
    loseNextCommitReply: () =>
      new Promise<void>((resolve) => {
        commitArmed = resolve;
      }),
  };
}
