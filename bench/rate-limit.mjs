// Rate-limit run (npm run bench:rate-limit): the emulator limits the Heavy group to 20 requests per
// 10-second window (penalty 10 s); the client submits 100 jobs at once and must finish them all without a
// failure, following X-Rate-Limit-* and Retry-After. Reports the time taken and how many 429s it provoked.
// Takes about 50 s. Settings: BENCH_JOBS (default 100), BENCH_LIMIT (default 20/10s).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobhook } from '../dist/client/jobhook.js';
import { createKeyring, generateSecret } from '../dist/callback/callback-url.js';
import { parseRateLimit } from '../dist/emulator/options.js';
import { createEmulator } from '../dist/emulator/server.js';
import { createReceiver } from '../dist/receiver/receiver.js';
import { SqliteStore } from '../dist/store/sqlite/sqlite-store.js';

const jobs = Number(process.env.BENCH_JOBS ?? 100);
const rateLimit = parseRateLimit(process.env.BENCH_LIMIT ?? '20/10s');
const work = mkdtempSync(join(tmpdir(), 'jobhook-rate-'));
const emulator = createEmulator({ rateLimit, latency: { minMs: 50, maxMs: 200 } });
const emulatorUrl = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
const store = new SqliteStore({ path: join(work, 'jobhook.db') });
const keyring = createKeyring(await store.ensureSecrets(generateSecret));
const receiver = createReceiver({ store, keyring, pathPrefix: '/webhooks' });
const publicUrl = `http://127.0.0.1:${(await receiver.listen(0, '127.0.0.1')).port}`;
const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jobhook = await createJobhook({
  store,
  publicUrl,
  ringcentral: {
    server: emulatorUrl,
    clientId: 'bench',
    clientSecret: 'bench',
    jwt: `${part({ alg: 'none' })}.${part({ sub: 'b' })}.x`,
  },
});

console.log(
  `rate-limit run: ${jobs} submissions against ${rateLimit.limit} requests per ${rateLimit.windowMs / 1000} s`,
);
const started = Date.now();
const progress = setInterval(() => {
  const { queued, inFlight } = jobhook.stats;
  process.stdout.write(`\r${((Date.now() - started) / 1000).toFixed(0)} s: ${queued} queued, ${inFlight} in flight   `);
}, 1000);
const settled = await Promise.allSettled(
  Array.from({ length: jobs }, (_, i) => jobhook.punctuate({ texts: [`job ${i}`] })),
);
clearInterval(progress);
const seconds = (Date.now() - started) / 1000;
const stats = await (await fetch(`${emulatorUrl}/_emulator/stats`)).json();
const failed = settled.filter((s) => s.status === 'rejected');
console.log(
  `\n${jobs - failed.length} of ${jobs} submitted in ${seconds.toFixed(1)} s (lower bound ${(Math.floor((jobs - 1) / rateLimit.limit) * rateLimit.windowMs) / 1000} s); ${failed.length} failed`,
);
console.log(`emulator answers: ${JSON.stringify(stats.answered)} (429 count: ${stats.answered['429'] ?? 0})`);
await jobhook.close();
await receiver.close();
await store.close();
await emulator.close();
rmSync(work, { recursive: true, force: true });
