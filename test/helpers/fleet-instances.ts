import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, startServer, type ServerProcess } from './cli-process.js';
import type { FreshSchema } from './postgres.js';

/**
 * Several `jobhook serve` processes on one PostgreSQL schema, started from outside as a user would: the
 * built CLI with `--db postgres://…?schema=<the test's schema>`.
 */

/** The `--db` URL that keeps jobhook's tables in the test's own schema. */
export function schemaDbUrl(fresh: Pick<FreshSchema, 'url' | 'schema'>): string {
  const url = new URL(fresh.url);
  url.searchParams.set('schema', fresh.schema);
  return url.toString();
}

/** Starts `count` serve processes at once (so they also race through migrations and secrets). */
export function startFleet(count: number, dbUrl: string, extraArgs: string[] = []): Promise<ServerProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () => startServer(['--db', dbUrl, '--log-format', 'json', ...extraArgs])),
  );
}

/** The same callback path at another instance's receiver: a load balancer, or RingCentral redelivering. */
export function atInstance(callbackUrl: string, instance: Pick<ServerProcess, 'receiverPort'>): string {
  const url = new URL(callbackUrl);
  return `http://127.0.0.1:${instance.receiverPort}${url.pathname}`;
}

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts a CLI command without blocking this process's event loop (runCli's spawnSync would stall the
 * senders and sinks living in the test process). Killed after `timeoutMs`.
 */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Runs a CLI command to completion, asynchronously (see startCli). */
export const spawnCli = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliRun> =>
  startCli(args, env, timeoutMs).done;

/** The owner pattern (`host/pid/random`) of every claim a process made, for `owner LIKE $1`. */
export const ownerOf = (pid: number): string => `%/${pid}/%`;

/** Kills with SIGKILL and waits for the exit, so the database has seen its connections close. */
export async function killHard(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}
