import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { JobhookError } from '../errors.js';

/**
 * `.env` discovery. RingCentral's samples keep `.env` at the top of their repository and run each program
 * from a folder below it, so the nearest `.env` between the current folder and the project root (the
 * nearest folder with a `package.json` or `.git`, inclusive) is the one meant. Outside any project only
 * the current folder is looked at: walking on up to `/` could pick up an unrelated file with other
 * credentials in it.
 */
export function findEnvFile(cwd: string): string | null {
  const start = resolve(cwd);
  const isRoot = (dir: string): boolean => existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'));
  let root: string | null = null;
  for (let dir = start; ; dir = dirname(dir)) {
    if (isRoot(dir)) {
      root = dir;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, '.env');
    if (existsSync(candidate)) return candidate;
    if (root === null || dir === root || dirname(dir) === dir) return null;
  }
}

export interface LoadedEnvFile {
  /** The file, relative to the current folder (for the one stderr line). */
  shownPath: string;
  /** Names taken from the file. */
  applied: string[];
  /** Names in the file that the environment already set: the environment wins. */
  kept: string[];
}

/**
 * Loads `explicitPath` (`--env-file`, `JOBHOOK_ENV_FILE`; a missing one is an error) or the discovered
 * `.env` into `env`, never overwriting a variable that is already set (a shell export or a CI secret is
 * the more deliberate choice). Returns null when there is no file to load.
 */
export function loadEnvFile(
  explicitPath: string | null,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedEnvFile | null {
  const path = explicitPath === null ? findEnvFile(cwd) : resolve(cwd, explicitPath);
  if (path === null) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `--env-file ${explicitPath ?? path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: error },
    );
  }
  const applied: string[] = [];
  const kept: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    // Set, even to '', counts as set (as with `node --env-file`): an empty export is a way to switch one off.
    if (env[name] !== undefined) kept.push(name);
    else {
      env[name] = value;
      applied.push(name);
    }
  }
  const shown = relative(cwd, path);
  return { shownPath: shown.startsWith('..') ? shown : `./${shown}`, applied, kept };
}

/** The one stderr line saying which file was read: variable names only, never their values. */
export function describeEnvFile(loaded: LoadedEnvFile): string {
  const names = loaded.applied.length > 0 ? loaded.applied.join(', ') : 'nothing new';
  const kept = loaded.kept.length > 0 ? `; already set, kept: ${loaded.kept.join(', ')}` : '';
  return `jobhook: using credentials and settings from ${loaded.shownPath} (${names}${kept})\n`;
}
