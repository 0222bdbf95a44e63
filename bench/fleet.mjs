// Fleet benchmark (npm run bench:fleet): two `jobhook serve` on one PostgreSQL schema against one `serve`
// on a SQLite file, under the load of bench:ingest (~1.1 KB envelopes, each with a jobId of its own, on 50
// minted URLs, N connections; on the fleet the connections are split between the two instances), in one
// run. Prints durable deliveries/s (answered 200: committed before the answer), ack latency, CPU time per
// delivery of the instances and of PostgreSQL's processes (counted until everything is indexed and quiet),
// the ratios to SQLite, and the cross-instance wake-up: a delivery received by instance B → `result()`
// resolved in this process (the library on a PostgresStore).
//
// Settings (environment): BENCH_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_WAKEUPS (200),
// BENCH_DATABASE_URL (else JOBHOOK_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test).
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVELOPE, postEnvelopes } from './ingest-load.mjs';
import Database from 'better-sqlite3';
import pg from 'pg';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const wakeups = Number(process.env.BENCH_WAKEUPS ?? 200);
const databaseUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.JOBHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'jobhook-bench-fleet-'));
const schema = `jh_bench_${randomBytes(4).toString('hex')}`;
const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

// --- processes and their CPU time (/proc/<pid>/stat: utime, stime; cutime, cstime for reaped children) ---

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  return text.slice(text.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
}
const cpuTicks = (pid) => {
  const f = statFields(pid);
  return Number(f[11]) + Number(f[12]);
};

/** Every PostgreSQL process's CPU, plus what the postmaster reaped from backends that exited meanwhile. */
function postgresTicks() {
  let total = 0;
  const pids = new Set();
  const procs = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const f = statFields(entry);
      procs.push({ pid: entry, ppid: f[1], f });
      pids.add(entry);
    } catch {
      // exited while we looked
    }
  }
  for (const p of procs) {
    total += Number(p.f[11]) + Number(p.f[12]);
    if (!pids.has(p.ppid)) total += Number(p.f[13]) + Number(p.f[14]); // the postmaster: reaped backends
  }
  return { ticks: total, processes: procs.length };
}

function startServe(db) {
  const args = ['serve', '--port', '0', '--local-port', '0', '--log-level', 'warn', '--db', db];
  const child = spawn(process.execPath, [here('../dist/cli/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk) => (err = (err + chunk).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const port = /receiver\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const local = /local API\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (port && local) resolve({ child, port: Number(port[1]), localPort: Number(local[1]), stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

async function mint(localPort) {
  const response = await fetch(`http://127.0.0.1:${localPort}/api/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  return response.json();
}

let n = 0;
function load(port, paths, conns) {
  // One counter for every load of the run: the two instances never receive each other's bodies.
  return postEnvelopes({ port, paths, connections: conns, seconds, nextN: () => ++n });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `caughtUp()` (every receipt indexed) and then until the pids (and PostgreSQL) spend < 20 ms CPU
 * per 500 ms; ≤ 30 s. Returns how long indexing went on after the load: acknowledging outruns indexing.
 */
async function untilQuiet(pids, withPostgres, caughtUp) {
  const start = Date.now();
  const deadline = start + 30_000;
  while (!(await caughtUp()) && Date.now() < deadline) await sleep(50);
  const indexedAfterMs = Date.now() - start;
  let last = -1;
  while (Date.now() < deadline) {
    const now = pids.reduce((sum, pid) => sum + cpuTicks(pid), 0) + (withPostgres ? postgresTicks().ticks : 0);
    if (last >= 0 && now - last <= 0.02 * TICK) return indexedAfterMs;
    last = now;
    await sleep(500);
  }
  return indexedAfterMs;
}

const µs = (ticks, deliveries) => ((ticks / TICK) * 1e6) / deliveries;
const ms1 = (value) => Number(value).toFixed(1);
/** Deliveries acknowledged and indexed per second of load plus the indexing that ran past it. */
const sustained = (phase) => phase.acked / (seconds + phase.indexedAfterMs / 1000);
const past = (phase) =>
  phase.indexedAfterMs >= 30_000
    ? 'indexing NOT caught up 30 s past the load: a lower bound'
    : `indexing ran ${ms1(phase.indexedAfterMs / 1000)} s past the load`;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// --- phase 1: one serve on SQLite ---

async function sqlitePhase() {
  const dbPath = join(work, 'jobhook.db');
  const server = await startServe(dbPath);
  try {
    const paths = [];
    for (let i = 0; i < 50; i++) paths.push(new URL((await mint(server.localPort)).callbackUrl).pathname);
    const before = cpuTicks(server.child.pid);
    const result = await load(server.port, paths, connections);
    const caughtUp = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return db.prepare('SELECT COUNT(*) FROM deliveries WHERE indexed_at IS NULL').pluck().get() === 0;
      } catch {
        return true; // a schema without that column: nothing to wait for
      } finally {
        db.close();
      }
    };
    const indexedAfterMs = await untilQuiet([server.child.pid], false, caughtUp);
    const ticks = cpuTicks(server.child.pid) - before;
    const db = new Database(dbPath, { readonly: true });
    const stored = db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get();
    db.close();
    return { result, acked: result['2xx'], ticks, stored, indexedAfterMs };
  } finally {
    server.child.kill('SIGTERM');
  }
}

// --- phase 2: two serve on one PostgreSQL schema, then the wake-up latency ---

async function postgresPhase() {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('schema', schema);
  const servers = [];
  let store;
  let jobhook;
  try {
    servers.push(...(await Promise.all([startServe(url.toString()), startServe(url.toString())])));
    const [a, b] = servers;
    const paths = [];
    for (let i = 0; i < 50; i++) paths.push(new URL((await mint(a.localPort)).callbackUrl).pathname);
    const pids = servers.map((s) => s.child.pid);
    const beforeInstances = pids.map(cpuTicks);
    const beforePg = postgresTicks();
    const results = await Promise.all([
      load(a.port, paths, Math.ceil(connections / 2)),
      load(b.port, paths, Math.floor(connections / 2)),
    ]);
    const count = async (sql) => Number((await admin.query(sql)).rows[0].n);
    const indexedAfterMs = await untilQuiet(
      pids,
      true,
      async () => (await count(`SELECT count(*) AS n FROM ${schema}.deliveries WHERE indexed_at IS NULL`)) === 0,
    );
    const instanceTicks = pids.map((pid, i) => cpuTicks(pid) - beforeInstances[i]);
    const afterPg = postgresTicks();
    const stored = await count(`SELECT count(*) AS n FROM ${schema}.deliveries`);

    // Wake-up: this process awaits through the library on its own PostgresStore; B receives the delivery.
    const { createJobhook } = await import(here('../dist/index.js'));
    const { PostgresStore } = await import(here('../dist/store/postgres/postgres-store.js'));
    store = await PostgresStore.open({ connectionString: databaseUrl, schema });
    const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    jobhook = await createJobhook({
      store,
      publicUrl: `http://127.0.0.1:${b.port}`,
      // Never used: nothing is submitted (a closed port, should anything try).
      ringcentral: {
        server: 'http://127.0.0.1:9',
        clientId: 'bench',
        clientSecret: 'bench',
        jwt: `${part({ alg: 'none' })}.${part({ sub: 'bench' })}.x`,
      },
    });
    const fromAck = [];
    const fromPost = [];
    for (let i = -5; i < wakeups; i++) {
      const minted = await mint(a.localPort);
      const job = await jobhook.job(minted.requestId);
      let resolvedAt = 0;
      const result = job.result({ timeoutMs: 10_000 }).then(() => (resolvedAt = performance.now()));
      await sleep(5); // the waiter is registered and its first read done
      const body = ENVELOPE.replace('%N%', `wake-${i}`);
      const postedAt = performance.now();
      const response = await fetch(`http://127.0.0.1:${b.port}${new URL(minted.callbackUrl).pathname}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      await response.arrayBuffer();
      const ackedAt = performance.now();
      if (response.status !== 200) throw new Error(`wake-up delivery answered ${response.status}`);
      await result;
      if (i < 0) continue; // warm-up: LISTEN connection, pools
      fromAck.push(Math.max(0, resolvedAt - ackedAt));
      fromPost.push(resolvedAt - postedAt);
    }
    return {
      results,
      acked: results.reduce((sum, r) => sum + r['2xx'], 0),
      instanceTicks,
      pgTicks: afterPg.ticks - beforePg.ticks,
      pgProcesses: afterPg.processes,
      stored,
      indexedAfterMs,
      fromAck: fromAck.sort((x, y) => x - y),
      fromPost: fromPost.sort((x, y) => x - y),
    };
  } finally {
    await jobhook?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    for (const s of servers) s.child.kill('SIGTERM');
    await sleep(500);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

// --- report ---

const versionClient = new pg.Client({ connectionString: databaseUrl });
await versionClient.connect();
const pgVersion = (await versionClient.query('SELECT version() AS v, current_setting($1) AS s', ['synchronous_commit']))
  .rows[0];
await versionClient.end();
console.log(
  `fleet bench: ${connections} connections (split over the fleet), ${seconds} s per target, ~${ENVELOPE.length} B envelopes, ${wakeups} wake-ups`,
);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n${pgVersion.v.split(' on ')[0]}, server synchronous_commit ${pgVersion.s}\n`,
);

try {
  const lite = await sqlitePhase();
  const liteRps = lite.acked / seconds;
  console.log(
    `one serve on SQLite             ${liteRps.toFixed(0).padStart(6)} durable/s   p50 ${ms1(lite.result.latency.p50)} ms  p99 ${ms1(lite.result.latency.p99)} ms   ` +
      `CPU ${µs(lite.ticks, lite.acked).toFixed(0)} µs/delivery   (${lite.acked} acked, ${lite.stored} stored, ${lite.result.non2xx + lite.result.errors + lite.result.timeouts} not 200)\n` +
      `${''.padEnd(32)}${sustained(lite).toFixed(0).padStart(6)} indexed/s sustained (${past(lite)})`,
  );
  await sleep(1000);

  const fleet = await postgresPhase();
  const fleetRps = fleet.acked / seconds;
  const instanceTicks = fleet.instanceTicks.reduce((x, y) => x + y, 0);
  const notOk = fleet.results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
  fleet.results.forEach((r, i) =>
    console.log(
      `  instance ${'AB'[i]} on PostgreSQL       ${(r['2xx'] / seconds).toFixed(0).padStart(6)} durable/s   p50 ${ms1(r.latency.p50)} ms  p99 ${ms1(r.latency.p99)} ms   ` +
        `CPU ${µs(fleet.instanceTicks[i], r['2xx']).toFixed(0)} µs/delivery`,
    ),
  );
  console.log(
    `two serve on one PostgreSQL     ${fleetRps.toFixed(0).padStart(6)} durable/s combined   p99 ${ms1(Math.max(...fleet.results.map((r) => r.latency.p99)))} ms (worse instance)   ` +
      `CPU ${µs(instanceTicks, fleet.acked).toFixed(0)} µs/delivery in the instances + ${µs(fleet.pgTicks, fleet.acked).toFixed(0)} µs in PostgreSQL ` +
      `(${fleet.pgProcesses} processes)   (${fleet.acked} acked, ${fleet.stored} stored, ${notOk} not 200)\n` +
      `${''.padEnd(32)}${sustained(fleet).toFixed(0).padStart(6)} indexed/s sustained (${past(fleet)})`,
  );
  const perLite = lite.ticks / lite.acked;
  const withPg = (instanceTicks + fleet.pgTicks) / fleet.acked / perLite;
  console.log(
    `\nratios fleet / SQLite: throughput ${(fleetRps / liteRps).toFixed(2)} ×, CPU per delivery ${withPg.toFixed(2)} × ` +
      `(instances + PostgreSQL), ${(instanceTicks / fleet.acked / perLite).toFixed(2)} × (instances only)`,
  );
  const [a50, a99, p50, p99] = [
    percentile(fleet.fromAck, 50),
    percentile(fleet.fromAck, 99),
    percentile(fleet.fromPost, 50),
    percentile(fleet.fromPost, 99),
  ];
  console.log(
    `wake-up, delivery to B → result() here (${wakeups} sequential, idle fleet): from B's 200 p50 ${ms1(a50)} ms  ` +
      `p99 ${ms1(a99)} ms  max ${ms1(fleet.fromAck.at(-1))} ms; from the POST p50 ${ms1(p50)} ms  p99 ${ms1(p99)} ms`,
  );
  console.log(
    `targets (issue #11): ≥ 5000 durable deliveries/s combined: ${fleetRps >= 5000 ? 'met' : 'NOT met'}; ` +
      `wake-up p99 ≤ 100 ms: ${a99 <= 100 ? 'met' : 'NOT met'}`,
  );
  if (fleet.stored < fleet.acked || lite.stored < lite.acked) console.log('WARNING: fewer stored than acknowledged');
} finally {
  rmSync(work, { recursive: true, force: true });
}
