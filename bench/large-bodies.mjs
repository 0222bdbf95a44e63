// Large-body benchmark (npm run bench:large-bodies): while BENCH_LARGE (default 20) deliveries of
// BENCH_LARGE_MIB (default 28) MiB arrive at once, a small delivery is sent every 20 ms; the time to each
// small acknowledgement and /healthz answer is recorded before and during the burst, for jobhook (`serve`)
// and for a bare node:http server that reads and discards every body (the same-run baseline: what the
// machine, the loopback and this sender cost by themselves). Also prints jobhook's peak RSS (VmHWM) against
// the bytes in flight. Issue #9's target: small acks p99 ≤ 100 ms, RSS under 2x the bodies in flight.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const largeCount = Number(process.env.BENCH_LARGE ?? 20);
const largeBytes = Number(process.env.BENCH_LARGE_MIB ?? 28) * 1024 * 1024;
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const bare = fileURLToPath(new URL('./targets/bare.mjs', import.meta.url));

function start(args, pattern) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function timed(url, method, body) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function largeEnvelope(bytes) {
  const words = [];
  let size = 200;
  for (let i = 0; size < bytes; i++) {
    const w = `{"word":"w${i.toString(36)}","start":${(i * 0.41).toFixed(2)},"end":${(i * 0.41 + 0.3).toFixed(2)},"confidence":0.9}`;
    words.push(w);
    size += w.length + 1;
  }
  return Buffer.from(`{"jobId":"bench-large","status":"Success","response":{"words":[${words.join(',')}]}}`);
}

// The large bodies are sent from a child process, so the probe's own event loop (which times the small
// acknowledgements) is not the one busy pushing 560 MiB into sockets.
if (process.argv[2] === '--send-large') {
  const urls = process.argv.slice(3);
  const body = largeEnvelope(largeBytes);
  process.send('ready');
  await new Promise((resolve) => process.once('message', resolve));
  const statuses = (await Promise.all(urls.map((url) => timed(url, 'POST', body)))).map((r) => r.status);
  process.send(statuses);
  process.exit(0);
}

function sendLarge(urls) {
  const child = fork(fileURLToPath(import.meta.url), ['--send-large', ...urls]);
  const ready = new Promise((resolve) => child.once('message', resolve));
  return {
    ready,
    run: () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send('go');
      }),
  };
}

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const summary = (xs) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms  p99 ${pct(xs, 99).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms`;

/** Small posts and health checks every 20 ms while `during` runs; returns their latencies. */
async function probe(smallUrl, healthUrl, during) {
  const acks = [];
  const health = [];
  let running = true;
  const pending = [];
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const small = Buffer.from(JSON.stringify({ jobId: `small-${n}`, status: 'InProgress', response: {} }));
      pending.push(timed(smallUrl, 'POST', small).then((r) => r.status === 200 && acks.push(r.ms)));
      pending.push(timed(healthUrl, 'GET').then((r) => health.push(r.ms)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await during();
  running = false;
  await loop;
  await Promise.all(pending);
  return { acks, health };
}

async function run(name, target, urls) {
  const idle = await probe(urls.small, urls.health, () => new Promise((resolve) => setTimeout(resolve, 2000)));
  const sender = sendLarge(urls.large);
  await sender.ready;
  let statuses = [];
  const busy = await probe(urls.small, urls.health, async () => {
    statuses = await sender.run();
  });
  const peak = target.pid
    ? Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${target.pid}/status`, 'utf8'))[1]) * 1024
    : 0;
  console.log(`${name}`);
  console.log(`  idle   small acks ${summary(idle.acks)}   healthz ${summary(idle.health)}`);
  console.log(`  burst  small acks ${summary(busy.acks)}   healthz ${summary(busy.health)}`);
  console.log(
    `  large answered: ${statuses.filter((s) => s === 200).length}/${statuses.length}; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
  );
  return { idle, busy, peak };
}

console.log(`large-bodies bench: ${largeCount} x ${largeBytes / 2 ** 20} MiB, a small delivery every 20 ms`);
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);

const baseline = await start([bare], /PORT (\d+)/);
const basePort = Number(baseline.match[1]);
const baseUrl = `http://127.0.0.1:${basePort}`;
const base = await run('bare node:http (reads and discards)', baseline.child, {
  small: `${baseUrl}/small`,
  health: `${baseUrl}/healthz`,
  large: Array.from({ length: largeCount }, (_, i) => `${baseUrl}/large/${i}`),
});
baseline.child.kill();

const dir = mkdtempSync(join(tmpdir(), 'jobhook-bench-'));
const server = await start(
  [cli, 'serve', '--db', join(dir, 'bench.db'), '--port', '0', '--local-port', '0', '--log-level', 'warn'],
  /receiver\s+http:\/\/127\.0\.0\.1:(\d+)[\s\S]*local API\s+http:\/\/127\.0\.0\.1:(\d+)/,
);
const [receiverPort, localPort] = [Number(server.match[1]), Number(server.match[2])];
const mint = async () => {
  const res = await fetch(`http://127.0.0.1:${localPort}/api/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  return (await res.json()).callbackUrl;
};
const jobhook = await run('jobhook serve', server.child, {
  small: await mint(),
  health: `http://127.0.0.1:${receiverPort}/healthz`,
  large: await Promise.all(Array.from({ length: largeCount }, mint)),
});
server.child.kill();
rmSync(dir, { recursive: true, force: true });

const inFlight = largeCount * largeBytes;
console.log(
  `jobhook small-ack p99 during the burst: ${pct(jobhook.busy.acks, 99).toFixed(1)} ms ` +
    `(${(pct(jobhook.busy.acks, 99) / pct(base.busy.acks, 99)).toFixed(1)}x the bare server's); ` +
    `peak RSS ${(jobhook.peak / inFlight).toFixed(2)}x the ${(inFlight / 2 ** 20).toFixed(0)} MiB in flight`,
);
