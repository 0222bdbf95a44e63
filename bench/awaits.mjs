// Concurrent awaits (npm run bench:awaits): 10 000 jobs awaited at once cost memory per waiter and no
// polling of their own; this measures heap per waiter, how fast a settlement wakes its awaiter, and that the
// store is not read while nothing settles. Settings: BENCH_AWAITS (default 10000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobhook } from '../dist/client/jobhook.js';
import { newRequestId } from '../dist/callback/request-id.js';
import { parseEnvelope } from '../dist/ringcentral/envelope.js';
import { SqliteStore } from '../dist/store/sqlite/sqlite-store.js';

const count = Number(process.env.BENCH_AWAITS ?? 10_000);
const work = mkdtempSync(join(tmpdir(), 'jobhook-awaits-'));
const store = new SqliteStore({ path: join(work, 'jobhook.db') });
const platform = {
  post: async () => ({ status: 500, headers: new Headers(), text: '' }),
  get: async () => ({ status: 500, headers: new Headers(), text: '' }),
  close: async () => {},
};
const jobhook = await createJobhook({ store, publicUrl: 'http://127.0.0.1:9', platform });

const ids = [];
for (let i = 0; i < count; i++) {
  const requestId = newRequestId();
  await store.createRequest({ requestId, kind: 'job', callbackUrl: 'x', api: '/ai/text/v1/async/punctuate' });
  ids.push(requestId);
}
// Count store reads while waiting: none should happen until something settles.
let reads = 0;
const findRequest = store.findRequest.bind(store);
store.findRequest = (id) => (reads++, findRequest(id));

global.gc?.();
const before = process.memoryUsage().heapUsed;
const handles = await Promise.all(ids.map((id) => jobhook.job(id)));
const results = handles.map((job) => job.result());
await new Promise((resolve) => setTimeout(resolve, 1000));
global.gc?.();
const after = process.memoryUsage().heapUsed;
const readsAtRest = reads - count * 2; // job() and the initial check each read once
await new Promise((resolve) => setTimeout(resolve, 1000));
const idleReads = reads - count * 2 - readsAtRest;

const started = Date.now();
const body = Buffer.from(JSON.stringify({ status: 'Success', response: { texts: ['done'] } }));
await store.recordDeliveries(
  ids.map((requestId) => ({ requestId, source: 'webhook', body, rawHeaders: [], receivedAtMs: Date.now() })),
);
for (let pass; !pass || pass.examined > 0;) pass = await store.indexDeliveries(parseEnvelope, 5000);
await Promise.all(results);
console.log(`${count} concurrent result() awaits`);
console.log(
  `  heap per waiter      ${((after - before) / count).toFixed(0)} bytes (${((after - before) / 2 ** 20).toFixed(1)} MiB in all${global.gc ? '' : '; run with --expose-gc for steadier figures'})`,
);
console.log(`  store reads while idle for 1 s: ${idleReads}`);
console.log(`  all ${count} woken and resolved ${Date.now() - started} ms after their results were stored`);
await jobhook.close();
await store.close();
rmSync(work, { recursive: true, force: true });
