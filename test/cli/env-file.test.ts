import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnvFile, findEnvFile, loadEnvFile } from '../../src/cli/env-file.js';
import { tempDir } from '../helpers/temp.js';

describe('.env discovery', () => {
  it('takes the nearest .env from the current folder up to the project root, inclusive, and no further', () => {
    const top = tempDir();
    const project = join(top, 'project');
    const app = join(project, 'app', 'src');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(top, '.env'), 'OUTSIDE=1\n');
    expect(findEnvFile(app)).toBeNull(); // no project root: only the current folder counts
    writeFileSync(join(project, 'package.json'), '{}');
    expect(findEnvFile(app)).toBeNull(); // the .env above the root is not the project's
    writeFileSync(join(project, '.env'), 'A=1\n');
    expect(findEnvFile(app)).toBe(join(project, '.env'));
    writeFileSync(join(project, 'app', '.env'), 'A=2\n');
    expect(findEnvFile(app)).toBe(join(project, 'app', '.env'));
    mkdirSync(join(top, 'repo', '.git'), { recursive: true });
    mkdirSync(join(top, 'repo', 'x'));
    writeFileSync(join(top, 'repo', '.env'), 'B=1\n');
    expect(findEnvFile(join(top, 'repo', 'x'))).toBe(join(top, 'repo', '.env'));
  });

  it('never overwrites a variable already set, and describes the file by names only', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, '.env'), 'RC_APP_CLIENT_SECRET="s3cret value"\nRC_SERVER_URL=https://x\nEMPTY=\n');
    const env: NodeJS.ProcessEnv = { RC_SERVER_URL: 'http://127.0.0.1:1', EMPTY: '' };
    const loaded = loadEnvFile(null, dir, env)!;
    expect(env).toEqual({ RC_SERVER_URL: 'http://127.0.0.1:1', EMPTY: '', RC_APP_CLIENT_SECRET: 's3cret value' });
    expect(loaded).toEqual({
      shownPath: './.env',
      applied: ['RC_APP_CLIENT_SECRET'],
      kept: ['EMPTY', 'RC_SERVER_URL'],
    });
    const line = describeEnvFile(loaded);
    expect(line).toBe(
      'jobhook: using credentials and settings from ./.env (RC_APP_CLIENT_SECRET; already set, kept: EMPTY, RC_SERVER_URL)\n',
    );
    expect(line).not.toContain('s3cret');
    expect(() => loadEnvFile('missing.env', dir, {})).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
    );
  });
});
