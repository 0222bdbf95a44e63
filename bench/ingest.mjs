// Ingest benchmark (npm run bench:ingest): the same load against four receivers, in one run.
// Each receiver runs in its own process; autocannon runs here. Figures are req/s and p99 latency,
// and jobhook's ratios to the others; absolute numbers depend on the machine, ratios much less.
//
// Settings (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVELOPE, postEnvelopes } from './ingest-load.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'jobhook-bench-'));

/** Starts a target; baselines say `PORT n` on stderr, jobhook prints its banner on stdout. */
function startTarget(name, args, stdout = 'pipe') {
  const child = spawn(process.execPath, args, { stdio: ['ignore', stdout, 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      if (out.length > 4096) return; // started long ago; ignore the rest of its output
      out += chunk;
      const port = /PORT (\d+)/.exec(out) ?? /receiver\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const local = /local API\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (port && (name !== 'jobhook' || local))
        resolve({ child, port: Number(port[1]), localPort: local && Number(local[1]) });
    };
    child.stderr.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
}

function load(port, paths) {
  let n = 0;
  return postEnvelopes({ port, paths, connections, seconds, nextN: () => ++n });
}

async function mintPaths(localPort, count) {
  const paths = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${localPort}/api/mint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    paths.push(new URL((await response.json()).callbackUrl).pathname);
  }
  return paths;
}

const targets = [
  { name: 'bare node:http (ceiling)', key: 'bare', args: [here('./targets/bare.mjs')] },
  {
    name: 'sample receiver (print only)',
    key: 'sample',
    args: [here('./targets/sample-print.mjs')],
    log: 'sample.log',
  },
  {
    name: 'naive durable (fsync per request)',
    key: 'naive',
    args: [here('./targets/naive-durable.mjs'), join(work, 'naive.db')],
  },
  {
    name: 'jobhook receiver (group commit)',
    key: 'jobhook',
    args: [
      here('../dist/cli/main.js'),
      'serve',
      '--port',
      '0',
      '--local-port',
      '0',
      '--log-level',
      'warn',
      '--db',
      join(work, 'jobhook.db'),
    ],
  },
];

console.log(`ingest bench: ${connections} connections, ${seconds} s per target, ~${ENVELOPE.length} B envelopes`);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
);

const results = {};
try {
  for (const target of targets.filter(
    (t) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(t.key),
  )) {
    const logFd = target.log ? openSync(join(work, target.log), 'w') : undefined;
    const server = await startTarget(target.key, target.args, logFd ?? 'pipe');
    const paths = target.key === 'jobhook' ? await mintPaths(server.localPort, 50) : ['/webhooks/bench'];
    const result = await load(server.port, paths);
    server.child.kill('SIGTERM');
    if (logFd !== undefined) closeSync(logFd);
    const non200 = result.non2xx + result.errors + result.timeouts;
    results[target.key] = {
      rps: result.requests.average,
      p99: result.latency.p99,
      total: result.requests.total,
      non200,
    };
    console.log(
      `${target.name.padEnd(36)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p99 ${String(result.latency.p99).padStart(4)} ms   ${result.requests.total} requests, ${non200} not 200`,
    );
  }
} finally {
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log('kept', work);
}

const j = results.jobhook;
// BENCH_ONLY may leave targets out: ratios only against those that ran.
if (j) console.log('\njobhook ratios (targets: ≥ 0.50 × bare, ≥ 1.5 × sample, ≥ 5 × naive; p99 ≤ 10 ms)');
for (const key of ['bare', 'sample', 'naive'].filter((k) => j && results[k])) {
  console.log(`  vs ${key.padEnd(7)} ${(j.rps / results[key].rps).toFixed(2)} ×`);
}
if (j) console.log(`  p99     ${j.p99} ms`);
