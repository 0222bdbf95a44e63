import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) before these tests`);
}

/** Runs a short CLI command to completion. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  assertBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  receiverPort: number;
  localPort: number;
  banner: string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Starts `jobhook serve` on free ports and waits for its banner. */
export function startServer(args: string[], command: 'serve' | 'dev' = 'serve'): Promise<ServerProcess> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, command, '--port', '0', '--local-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}\n${stderr}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const receiver = /receiver\s+http:\/\/[^:]+:(\d+)/.exec(stdout);
      const local = /local API\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (receiver && local && (command === 'serve' || /emulator\s+http/.test(stdout))) {
        clearTimeout(timer);
        resolve({
          child,
          receiverPort: Number(receiver[1]),
          localPort: Number(local[1]),
          banner: stdout,
          stderr: () => stderr,
          exited,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${stderr}`));
    });
  });
}

/** Peak and current resident memory of a process, in bytes (Linux). */
export function memoryOf(pid: number): { peakBytes: number; currentBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { peakBytes: kb('VmHWM'), currentBytes: kb('VmRSS') };
}

export async function mintVia(localPort: number): Promise<{ requestId: string; callbackUrl: string }> {
  const response = await fetch(`http://127.0.0.1:${localPort}/api/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  return (await response.json()) as { requestId: string; callbackUrl: string };
}
