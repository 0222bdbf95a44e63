// Emulator submission benchmark (npm run bench:emulator): how many job submissions per second the
// emulator accepts (202 with a jobId), against a bare node:http server as the same-run baseline.
// Jobs are given a long latency so that only submission is measured, not webhook delivery.
//
// Settings (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50).
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

function start(args, pattern) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      if (out.length > 4096) return;
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function load(port, request) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests: [request] },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

const body = JSON.stringify({ contentUri: 'https://example.com/call.mp3', encoding: 'Mpeg', languageCode: 'en-US' });
console.log(`emulator bench: ${connections} connections, ${seconds} s per target, speech-to-text submissions`);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
);

const bare = await start([here('./targets/bare.mjs')], /PORT (\d+)/);
const bareResult = await load(bare.port, { method: 'POST', path: '/x', body });
bare.child.kill('SIGTERM');

const emulator = await start(
  [here('../dist/cli/main.js'), 'emulate', '--port', '0', '--latency', '1h', '--log-level', 'warn'],
  /API\s+http:\/\/127\.0\.0\.1:(\d+)/,
);
const tokenResponse = await fetch(`http://127.0.0.1:${emulator.port}/restapi/oauth/token`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from('bench:bench').toString('base64')}` },
  body: new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJiZW5jaCJ9.c2ln',
  }),
});
const { access_token: token } = await tokenResponse.json();
const result = await load(emulator.port, {
  method: 'POST',
  path: `/ai/audio/v1/async/speech-to-text?webhook=${encodeURIComponent('http://127.0.0.1:9/cb')}`,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body,
});
emulator.child.kill('SIGTERM');

const row = (name, r) =>
  console.log(
    `${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p99 ${String(r.latency.p99).padStart(4)} ms   ${r.requests.total} requests, ${r.non2xx + r.errors} not 2xx`,
  );
row('bare node:http (ceiling)', bareResult);
row('emulator submissions (202)', result);
console.log(
  `\nemulator: ${result.requests.average.toFixed(0)} submissions/s (target ≥ 1000), ${(result.requests.average / bareResult.requests.average).toFixed(2)} × bare`,
);
