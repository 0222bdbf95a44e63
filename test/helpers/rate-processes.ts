import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const GATE = fileURLToPath(new URL('../../dist/client/rate-gate.js', import.meta.url));

/** The built library must carry the shared budget: a stale dist would look like a budget that fails. */
export function assertBuiltWithBudget(): void {
  if (!existsSync(DIST) || !readFileSync(GATE, 'utf8').includes('takeRateToken')) {
    throw new Error(`${DIST} is missing or older than the shared rate budget: run \`npm run build\` first`);
  }
}

/** The shared database: a SQLite file, or a PostgreSQL schema. */
export type SubmitterStore = { sqlite: string } | { postgres: { url: string; schema: string } };

export interface SubmitterOptions {
  store: SubmitterStore;
  publicUrl: string;
  server: string;
  jwt: string;
  /** Texts to punctuate, all submitted at once. */
  texts: string[];
  rateBudget: { capacity: number; windowMs: number };
  resultTimeoutMs: number;
}

export interface SubmitterReport {
  pid: number;
  results: string[];
}

/**
 * A separate process using the built library as a user would: its own SqliteStore on the shared file, its
 * own client and gate. It submits every text, awaits every result, and prints them as one JSON line.
 */
const SCRIPT = `
const { SqliteStore, createJobhook } = await import(process.env.JOBHOOK_DIST);
const options = JSON.parse(process.env.SUBMITTER);
const pg = options.store.postgres;
const store = pg
  ? await (await import(new URL('./store/postgres/postgres-store.js', process.env.JOBHOOK_DIST))).PostgresStore.open({
      connectionString: pg.url,
      schema: pg.schema,
      poolSize: 3,
    })
  : new SqliteStore({ path: options.store.sqlite });
const jobhook = await createJobhook({
  store,
  publicUrl: options.publicUrl,
  ringcentral: { server: options.server, clientId: 'rate-test-app', clientSecret: 'rate-test-secret', jwt: options.jwt },
  rateBudget: options.rateBudget,
  retryBaseMs: 200,
});
try {
  const jobs = await Promise.all(options.texts.map((text) => jobhook.punctuate({ texts: [text] })));
  const results = await Promise.all(jobs.map((job) => job.result({ timeoutMs: options.resultTimeoutMs })));
  process.stdout.write(JSON.stringify({ pid: process.pid, results: results.map((r) => r.texts[0]) }) + '\\n');
} finally {
  await jobhook.close();
  await store.close();
}
`;

export function runSubmitter(options: SubmitterOptions, killAfterMs: number): Promise<SubmitterReport> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JOBHOOK_DIST: pathToFileURL(DIST).href, SUBMITTER: JSON.stringify(options) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(stdout.trim()) as SubmitterReport);
      else reject(new Error(`submitter exited ${code ?? signal}:\n${stdout}\n${stderr}`));
    });
  });
}
