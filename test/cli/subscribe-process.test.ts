import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, startServer, type ServerProcess } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/receiver-harness.js';
import { tempDir } from '../helpers/temp.js';
import { fakeJwt } from '../helpers/webhook-sink.js';

/**
 * The keeper in a real `jobhook serve`, with credentials pointing at a separate `jobhook emulate`: a
 * subscription made with `jobhook subscribe` follows the server to its new public URL when it restarts on
 * another port (as `serve --tunnel` gets a new address at each start): new one created, old one deleted,
 * and events keep arriving. SIGTERM still ends serve cleanly with the keeper running.
 */
interface Seen {
  id: string;
  deliveryMode: { address: string };
}

function startEmulator(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'emulate', '--port', '0', '--ace-delay', '20ms'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
}

async function stop(server: ServerProcess): Promise<number | string> {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe('the subscription keeper in jobhook serve (processes)', () => {
  it('moves a subscription to the new public URL after a restart; events keep arriving', async () => {
    const dir = tempDir();
    const db = join(dir, 'jobhook.db');
    const emulator = await startEmulator();
    const envFile = join(dir, '.env');
    writeFileSync(
      envFile,
      [
        `RC_SERVER_URL=${emulator.url}`,
        'RC_APP_CLIENT_ID=app',
        'RC_APP_CLIENT_SECRET=secret',
        `RC_USER_JWT=${fakeJwt()}`,
        '',
      ].join('\n'),
    );
    const common = ['--db', db, '--env-file', envFile, '--log-level', 'warn'];
    const onPlatform = async (): Promise<Seen[]> =>
      ((await (await fetch(`${emulator.url}/_emulator/subscriptions`)).json()) as { subscriptions: Seen[] })
        .subscriptions;
    let server: ServerProcess | null = null;
    try {
      server = await startServer([...common, '--keeper-interval', '1s']);
      const first = server.receiverPort;
      const made = runCli(['subscribe', 'ace', '--domains', 'pbx', ...common]);
      expect(made.status, made.stderr).toBe(0);
      // The URL the running serve recorded: no guess, no warning (only the .env file's note).
      expect(made.stderr).toMatch(/^jobhook: using credentials and settings from .*\.env[^\n]*\n$/);
      const [before] = await onPlatform();
      expect(before!.deliveryMode.address.startsWith(`http://127.0.0.1:${first}/webhooks/`)).toBe(true);
      expect(await stop(server)).toBe(0);

      server = await startServer([...common, '--keeper-interval', '1s']);
      const second = server.receiverPort;
      expect(second).not.toBe(first);
      const moved = await waitFor(async () => {
        const live = await onPlatform();
        return live.length === 1 && live[0]!.deliveryMode.address.includes(`:${second}/`) && live[0]!;
      }, 10_000);
      expect(moved.id).not.toBe(before!.id);

      const call = await fetch(`${emulator.url}/_emulator/ace/calls`, {
        method: 'POST',
        body: JSON.stringify({ domain: 'pbx' }),
      });
      const { sourceRecordId } = (await call.json()) as { sourceRecordId: string };
      await waitFor(() => {
        const listed = runCli(['insights', '--json', ...common]);
        return listed.stdout.includes(sourceRecordId);
      }, 10_000);
      const kept = JSON.parse(runCli(['subscriptions', '--json', ...common]).stdout) as {
        subscriptions: { platformId: string; status: string; lastEventAt: string | null }[];
      };
      expect(kept.subscriptions).toEqual([
        expect.objectContaining({ platformId: moved.id, status: 'Active', lastEventAt: expect.any(String) }),
      ]);
      expect(await stop(server)).toBe(0);
      server = null;
    } finally {
      if (server) await stop(server);
      emulator.child.kill('SIGTERM');
    }
  }, 40_000);

  it('jobhook dev: a renewal-reminder event makes the keeper renew at once', async () => {
    const dir = tempDir();
    const db = join(dir, 'jobhook.db');
    // Reminders every second; the keeper's own rounds only every minute, so only the reminder can renew.
    const server = await startServer(['--db', db, '--emulator-port', '0', '--reminder-period', '1s'], 'dev');
    try {
      const emulatorUrl = /emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(server.banner)![1]!;
      const port = new URL(emulatorUrl).port;
      const made = runCli([
        'subscribe',
        '--filter',
        '/restapi/v1.0/subscription/~?threshold=2&interval=1',
        '--filter',
        '/ai/ringsense/v1/public/accounts/~/domains/pbx/insights',
        '--expires-in',
        '4',
        '--db',
        db,
        '--emulator-port',
        port,
      ]);
      expect(made.status, made.stderr).toBe(0);
      const created = Date.now();
      // Without a renewal it would be purged 4 s after its creation; renewed, it lives on.
      await new Promise((resolve) => setTimeout(resolve, 5000 - (Date.now() - created)));
      const live = ((await (await fetch(`${emulatorUrl}/_emulator/subscriptions`)).json()) as { subscriptions: Seen[] })
        .subscriptions;
      expect(live).toHaveLength(1);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 30_000);
});
