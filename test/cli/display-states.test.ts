import { describe, expect, it } from 'vitest';
import { ApiRejectedError } from '../../src/errors.js';
import { describeFailure } from '../../src/cli/failure.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDbPath } from '../helpers/temp.js';

describe('what the CLI shows (issue #10 checks, found by testing from outside)', () => {
  it('shows a refused submission as rejected with its error in requests, --state rejected and show', async () => {
    const dbPath = tempDbPath();
    const store = new SqliteStore({ path: dbPath });
    await store.createRequest({
      requestId: 'r-refused',
      kind: 'job',
      callbackUrl: 'http://x/y',
      api: '/ai/text/v1/async/punctuate',
    });
    await store.updateSubmission('r-refused', { state: 'rejected', error: 'the API answered 400 CAI-101: texts' });
    await store.close();

    // Before: every one of these said pending.
    expect(runCli(['requests', '--db', dbPath]).stdout).toMatch(/rejected\s+r-refused/);
    expect(runCli(['requests', '--db', dbPath, '--state', 'rejected']).stdout).toContain('r-refused');
    expect(runCli(['requests', '--db', dbPath, '--api', 'punctuate']).stdout).toContain('r-refused');
    const shown = runCli(['show', 'r-refused', '--db', dbPath]).stdout;
    expect(shown).toMatch(/^state\s+rejected$/m);
    expect(shown).toMatch(/^submit\s+rejected: the API answered 400 CAI-101/m);
  });

  it('points a refused login or permission at the credentials, not at the request body', () => {
    const context = { command: 'submit', config: null };
    const login = describeFailure(
      new ApiRejectedError(400, { errorCode: 'OAU-213', message: 'Token not found' }),
      context,
    );
    expect(login.line).toMatch(/check RC_USER_JWT/);
    const permission = describeFailure(
      new ApiRejectedError(403, { errorCode: 'CMN-401', message: 'needs [AI]' }),
      context,
    );
    expect(permission.line).toMatch(/permission/);
    const body = describeFailure(new ApiRejectedError(400, { errorCode: 'CAI-101', message: 'texts' }), context);
    expect(body.line).toMatch(/submit --help/);
  });
});
