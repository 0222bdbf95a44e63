import { describe, expect, it } from 'vitest';
import { parseInvocation, parseSize } from '../src/config.js';

describe('configuration', () => {
  it('uses embedded defaults', () => {
    const { config, command } = parseInvocation(['serve'], {});
    expect(command).toBe('serve');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      localPort: 4040,
      publicUrl: null,
      dbPath: './jobhook.db',
      pathPrefix: '/webhooks',
      maxBodyBytes: 64 * 1024 * 1024,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes a flag over an environment variable over the default', () => {
    const env = { JOBHOOK_PORT: '3100', JOBHOOK_DB: '/tmp/env.db', JOBHOOK_PUBLIC_URL: 'https://env.example/' };
    expect(parseInvocation(['serve'], env).config).toMatchObject({
      port: 3100,
      dbPath: '/tmp/env.db',
      publicUrl: 'https://env.example',
    });
    expect(parseInvocation(['serve', '--port', '3200'], env).config.port).toBe(3200);
  });

  it('parses sizes and rejects nonsense with JH_ERR_INVALID_CONFIG', () => {
    expect(parseSize('--max-body', '64MiB')).toBe(67_108_864);
    expect(parseSize('--max-body', '50MB')).toBe(50_000_000);
    expect(parseSize('--max-body', '1048576')).toBe(1_048_576);
    for (const argv of [
      ['--max-body', 'lots'],
      ['--port', '70000'],
      ['--public-url', 'ftp://x'],
      ['--public-url', 'https://x/?a=1'],
      ['--log-level', 'loud'],
      ['--path-prefix', '/'],
      ['--limit', '0'],
    ]) {
      expect(() => parseInvocation(['serve', ...argv], {}), argv.join(' ')).toThrow(
        expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
      );
    }
  });
});

describe('shutdown timeout', () => {
  it('defaults to 10 s, takes JOBHOOK_SHUTDOWN_TIMEOUT and the flag, and refuses nonsense', () => {
    expect(parseInvocation(['serve'], {}).config.shutdownTimeoutMs).toBe(10_000);
    const env = { JOBHOOK_SHUTDOWN_TIMEOUT: '30s' };
    expect(parseInvocation(['serve'], env).config.shutdownTimeoutMs).toBe(30_000);
    expect(parseInvocation(['serve', '--shutdown-timeout', '2s'], env).config.shutdownTimeoutMs).toBe(2000);
    expect(parseInvocation(['serve', '--shutdown-timeout', '500ms'], {}).config.shutdownTimeoutMs).toBe(500);
    expect(() => parseInvocation(['serve', '--shutdown-timeout', 'soon'], {})).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
    );
  });
});

describe('emulator configuration', () => {
  it('defaults to port 8787 and parses fault flags', () => {
    const { config } = parseInvocation(
      [
        'emulate',
        '--latency',
        '500ms-5s',
        '--fail-rate',
        '0.1',
        '--drop-rate',
        '0.3',
        '--duplicate-rate',
        '0.2',
        '--reorder',
        '2s',
        '--rate-limit',
        '10/min',
        '--seed',
        's1',
        '--retries',
        '0',
      ],
      {},
    );
    expect(config.port).toBe(8787);
    expect(config.emulator).toEqual({
      latency: { minMs: 500, maxMs: 5000 },
      failRate: 0.1,
      dropRate: 0.3,
      duplicateRate: 0.2,
      reorderWindowMs: 2000,
      rateLimit: { limit: 10, windowMs: 60_000, penaltyMs: 60_000 },
      seed: 's1',
      redelivery: { retries: 0, backoffMs: 2000, attemptTimeoutMs: 10_000 },
    });
    expect(parseInvocation(['emulate', '--rate-limit', '20/10s'], {}).config.emulator.rateLimit).toEqual({
      limit: 20,
      windowMs: 10_000,
      penaltyMs: 10_000,
    });
  });

  it('rejects bad fault flags and needs credentials for strict mode', () => {
    for (const argv of [
      ['--fail-rate', '2'],
      ['--latency', '5s-1s'],
      ['--rate-limit', 'lots'],
      ['--retries', '-1'],
      ['--strict-client'],
    ]) {
      expect(() => parseInvocation(['emulate', ...argv], {}), argv.join(' ')).toThrow(
        expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
      );
    }
    expect(
      parseInvocation(['emulate', '--strict-client'], { RC_CLIENT_ID: 'a', RC_CLIENT_SECRET: 'b' }).config.emulator
        .strictClient,
    ).toEqual({
      clientId: 'a',
      clientSecret: 'b',
    });
  });
});

describe('documentation', () => {
  it('documents every flag and environment variable in the CLI reference (docs/cli.md) and in --help', async () => {
    const { readFileSync } = await import('node:fs');
    const { optionTable } = await import('../src/config.js');
    // Flags live in each command's help (`jobhook <command> --help`); the overview stays short.
    const { allHelpText } = await import('../src/cli/help.js');
    const HELP = allHelpText();
    // The emulator's own flags are documented with the emulator.
    const readme = ['../docs/cli.md', '../docs/emulator.md']
      .map((doc) => readFileSync(new URL(doc, import.meta.url), 'utf8'))
      .join('\n');
    const missing: string[] = [];
    for (const { flag, env } of optionTable()) {
      if (flag === '--version' || flag === '--help') continue;
      if (!readme.includes(`\`${flag}`)) missing.push(`docs/cli.md or docs/emulator.md: ${flag}`);
      if (!HELP.includes(flag)) missing.push(`--help: ${flag}`);
      if (env && !readme.includes(env)) missing.push(`docs/cli.md or docs/emulator.md: ${env}`);
    }
    expect(missing).toEqual([]);
  });

  it('keeps the README short enough to read in ten minutes, with every relative link resolving', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme.length).toBeLessThan(16_000);
    for (const [, target] of readme.matchAll(/\]\(((?:docs\/)?[\w.-]+\.md)\)/g)) {
      expect(existsSync(new URL(`../${target!}`, import.meta.url)), target).toBe(true);
    }
  });
});

describe('--accept and --env-file (issue #10)', () => {
  it('takes --accept repeatedly or JOBHOOK_ACCEPT comma-separated, normalised, the flags replacing the variable', async () => {
    const { envFileFrom } = await import('../src/config.js');
    expect(parseInvocation(['serve'], {}).config.acceptPaths).toEqual([]);
    expect(
      parseInvocation(['serve', '--accept', 'webhook/', '--accept', '/a/b', '--accept', '/webhook'], {}).config
        .acceptPaths,
    ).toEqual(['/webhook', '/a/b']);
    const env = { JOBHOOK_ACCEPT: ' /webhook , /conversations/webhooks/42 ,' };
    expect(parseInvocation(['serve'], env).config.acceptPaths).toEqual(['/webhook', '/conversations/webhooks/42']);
    expect(parseInvocation(['serve', '--accept', '/other'], env).config.acceptPaths).toEqual(['/other']);
    expect(Object.isFrozen(parseInvocation(['serve', '--accept', '/x'], {}).config.acceptPaths)).toBe(true);
    expect(() => parseInvocation(['serve', '--accept', '/'], {})).toThrow(
      expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
    );
    expect(envFileFrom(['submit', 'punctuate', '--env-file', '../.env', '--db', 'x'], {})).toBe('../.env');
    expect(envFileFrom(['serve', '--env-file=a.env'], { JOBHOOK_ENV_FILE: 'b.env' })).toBe('a.env');
    expect(envFileFrom(['serve'], { JOBHOOK_ENV_FILE: 'b.env' })).toBe('b.env');
    expect(envFileFrom(['serve', '--unknown-flag', 'x'], {})).toBeNull();
    expect(parseInvocation(['serve', '--env-file', 'a.env'], {}).config.envFile).toBe('a.env');
  });

  it("--strict-client takes the guide's client names first, the short ones as aliases", () => {
    const both = {
      RC_APP_CLIENT_ID: 'guide',
      RC_APP_CLIENT_SECRET: 'guide-s',
      RC_CLIENT_ID: 'old',
      RC_CLIENT_SECRET: 'old-s',
    };
    expect(parseInvocation(['emulate', '--strict-client'], both).config.emulator.strictClient).toEqual({
      clientId: 'guide',
      clientSecret: 'guide-s',
    });
    expect(() => parseInvocation(['emulate', '--strict-client'], {})).toThrow(
      /RC_APP_CLIENT_ID and RC_APP_CLIENT_SECRET/,
    );
  });
});

describe('argument mistakes', () => {
  const messageOf = (argv: string[]): string => {
    try {
      parseInvocation(argv, {});
    } catch (error) {
      expect(error).toMatchObject({ code: 'JH_ERR_INVALID_CONFIG' });
      return (error as Error).message;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  it('say the fix in one line: the nearest flag, the missing value, a switch given a value, an http(s) media URL', () => {
    expect(messageOf(['submit', '--content-url', 'x'])).toBe(
      'unknown option --content-url; did you mean --content-uri?',
    );
    expect(messageOf(['submit', '--boyd', 'x.json'])).toBe('unknown option --boyd; did you mean --body?');
    expect(messageOf(['serve', '--local-prot', '1'])).toBe('unknown option --local-prot; did you mean --local-port?');
    expect(messageOf(['mint', '--frobnicate'])).toBe('unknown option --frobnicate; see jobhook <command> --help');
    expect(messageOf(['submit', 'punctuate', '--body'])).toMatch(/^--body needs a value; write --body <value>/);
    expect(messageOf(['submit', 'punctuate', '--body', '--wait'])).toMatch(/^--body needs a value;/);
    expect(messageOf(['submit', '--wait=1'])).toBe('--wait takes no value; write --wait alone');
    expect(messageOf(['submit', '--content-uri', 'call.mp3'])).toMatch(
      /^--content-uri: "call.mp3" is not valid; expected an http\(s\) URL/,
    );
    for (const argv of [['--content-url'], ['--content-uri'], ['--wait=1'], ['--frobnicate']]) {
      expect(messageOf(['submit', ...argv])).not.toContain('\n');
    }
    expect(parseInvocation(['submit', '--content-uri', 'https://example.com/a.mp3'], {}).config.contentUri).toBe(
      'https://example.com/a.mp3',
    );
  });

  it('suggest only what is close', async () => {
    const { didYouMean } = await import('../src/config.js');
    const commands = ['dev', 'serve', 'submit', 'requests', 'show', 'export', 'retry'];
    expect(didYouMean('sumbit', commands)).toBe('submit');
    expect(didYouMean('reqeusts', commands)).toBe('requests');
    expect(didYouMean('expo', commands)).toBe('export');
    expect(didYouMean('deploy', commands)).toBeUndefined();
    expect(didYouMean('x', commands)).toBeUndefined();
  });
});

describe('durations beyond what a timer can wait (tester report)', () => {
  const messageOf = (argv: string[]): string => {
    try {
      parseInvocation(argv, {});
    } catch (error) {
      expect(error).toMatchObject({ code: 'JH_ERR_INVALID_CONFIG' });
      return (error as Error).message;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  it('refuses 999999h on every duration flag, naming the flag and the 24-day bound', () => {
    // Above 2^31-1 ms node's setTimeout fires at once: `submit --wait --timeout 999999h` gave up after 0.6 s.
    const flags: [string, string][] = [
      ['submit', '--timeout'],
      ['reconcile', '--older-than'],
      ['serve', '--shutdown-timeout'],
      ['emulate', '--latency'],
      ['emulate', '--delay'],
      ['emulate', '--retry-backoff'],
      ['emulate', '--attempt-timeout'],
      ['emulate', '--reorder-window'],
    ];
    for (const [command, flag] of flags) {
      for (const value of ['999999h', '577h', `${2 ** 31}ms`, '1'.repeat(400)]) {
        const message = messageOf([command, flag, value]);
        expect(message, `${flag} ${value}`).toContain(flag);
        expect(message, `${flag} ${value}`).toContain('up to 24 days');
      }
    }
    expect(messageOf(['emulate', '--latency', '1s-999999h'])).toMatch(/^--latency: .*up to 24 days/);
  });

  it('still takes durations up to 24 days', () => {
    expect(parseInvocation(['submit', '--timeout', '576h'], {}).config.timeoutMs).toBe(576 * 3_600_000);
    expect(parseInvocation(['reconcile', '--older-than', '24h'], {}).config.olderThanMs).toBe(86_400_000);
    const { emulator } = parseInvocation(['emulate', '--latency', '1s-576h', '--retry-backoff', '1h'], {}).config;
    expect(emulator.latency).toEqual({ minMs: 1000, maxMs: 576 * 3_600_000 });
    expect(emulator.redelivery?.backoffMs).toBe(3_600_000);
  });
});

describe('the database: a SQLite file or a PostgreSQL URL', () => {
  const URL_WITH_PASSWORD = 'postgres://jobhook:s3cret@db.internal:5432/jobs?schema=fleet';

  it('keeps SQLite for a path or nothing, and selects PostgreSQL for a postgres:// URL', () => {
    expect(parseInvocation(['serve'], {}).config.database).toEqual({ kind: 'sqlite', path: './jobhook.db' });
    expect(parseInvocation(['serve', '--db', 'x.db'], {}).config.database).toEqual({ kind: 'sqlite', path: 'x.db' });
    const { config } = parseInvocation(['serve', '--db', URL_WITH_PASSWORD], {});
    expect(config.database).toEqual({ kind: 'postgres', url: URL_WITH_PASSWORD });
    // Messages and logs print dbPath: never the password.
    expect(config.dbPath).toBe('postgres://jobhook:***@db.internal:5432/jobs?schema=fleet');
    expect(parseInvocation(['serve', '--db', 'postgresql://u@h/d'], {}).config.database.kind).toBe('postgres');
  });

  it('takes JOBHOOK_DATABASE_URL over JOBHOOK_DB, and --db over both', () => {
    const env = { JOBHOOK_DATABASE_URL: URL_WITH_PASSWORD, JOBHOOK_DB: 'env.db' };
    expect(parseInvocation(['serve'], env).config.database.kind).toBe('postgres');
    expect(parseInvocation(['serve'], { JOBHOOK_DB: 'env.db' }).config.database).toEqual({
      kind: 'sqlite',
      path: 'env.db',
    });
    expect(parseInvocation(['serve', '--db', 'flag.db'], env).config.database).toEqual({
      kind: 'sqlite',
      path: 'flag.db',
    });
  });

  it('refuses another scheme or a malformed URL as a usage error, without printing a password', () => {
    for (const db of ['mysql://root:pw@localhost/db', 'postgres://u:pw@[bad', '']) {
      let error: unknown;
      try {
        parseInvocation(['serve', '--db', db], {});
      } catch (e) {
        error = e;
      }
      expect(error, db).toMatchObject({ code: 'JH_ERR_INVALID_CONFIG' });
      expect((error as Error).message, db).not.toContain('pw@');
    }
  });

  it('validates the shared rate budget and the handler lease', () => {
    expect(parseInvocation(['serve', '--rate-budget', '40/min'], {}).config.rateBudget).toEqual({
      capacity: 40,
      windowMs: 60_000,
    });
    expect(parseInvocation(['serve'], {}).config.rateBudget).toBeNull();
    expect(parseInvocation(['serve', '--handler-lease', '5s'], {}).config.handlerLeaseMs).toBe(5000);
    for (const argv of [
      ['--rate-budget', '0/min'],
      ['--rate-budget', 'ten'],
      ['--handler-lease', '0'],
      ['--handler-lease', '500ms'],
    ]) {
      expect(() => parseInvocation(['serve', ...argv], {}), argv.join(' ')).toThrow(
        expect.objectContaining({ code: 'JH_ERR_INVALID_CONFIG' }),
      );
    }
  });
});

describe('the database URL, as users write it (found testing from outside)', () => {
  it('hides ?password= too, refuses an empty JOBHOOK_DATABASE_URL, ?schema= without a name and postgres:/one-slash', () => {
    const { config } = parseInvocation(['serve', '--db', 'postgres://u@h:5432/d?schema=s&password=s3cret'], {});
    expect(config.dbPath).not.toContain('s3cret');
    expect(config.dbPath).toContain('password=***');
    for (const [argv, env] of [
      [['serve'], { JOBHOOK_DATABASE_URL: '' }],
      [['serve'], { JOBHOOK_DATABASE_URL: '  ' }],
      [['serve', '--db', 'postgres://u@h/d?schema='], {}],
      [['serve', '--db', 'postgres:/127.0.0.1/d'], {}],
      [['serve', '--db', 'mysql://u@h/d?password=s3cret'], {}],
    ] as const) {
      let error: unknown;
      try {
        parseInvocation([...argv], { ...env });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify([argv, env])).toMatchObject({ code: 'JH_ERR_INVALID_CONFIG' });
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});

describe("the emulator's subscription and ACE flags (toward issue #12)", () => {
  it('fill only the fields given; a delivery flag keeps the default of the other delivery fields', () => {
    expect(parseInvocation(['emulate'], {}).config.emulator).toEqual({});
    const { emulator } = parseInvocation(
      [
        'dev',
        ...['--subscription-limit', '2', '--blacklist-after', '4', '--notify-timeout', '2s'],
        ...['--ace-delay', '0', '--reminder-period', '1s'],
      ],
      {},
    ).config;
    expect(emulator).toEqual({
      subscriptions: {
        perUserLimit: 2,
        blacklistAfterFailures: 4,
        delivery: { retries: 2, backoffMs: 1000, attemptTimeoutMs: 2000 },
        reminderPeriodMs: 1000,
      },
      ace: { insightsDelayMs: 0 },
    });
    expect(parseInvocation(['emulate', '--notify-retries', '0'], {}).config.emulator.subscriptions).toEqual({
      delivery: { retries: 0, backoffMs: 1000, attemptTimeoutMs: 3000 },
    });
    expect(parseInvocation(['mint'], {}).config.kind).toBe('job');
    expect(parseInvocation(['mint', '--kind', 'subscription'], {}).config.kind).toBe('subscription');
  });

  it('refuse what the emulator cannot use, naming the flag and what it takes', () => {
    const cases: [string, string, RegExp][] = [
      ['--subscription-limit', '-1', /a whole number of subscriptions per user$/],
      ['--subscription-limit', '1e3', /a whole number/],
      ['--blacklist-after', '0', /at least 1$/],
      ['--notify-retries', 'two', /a whole number of redeliveries/],
      ['--notify-timeout', '0', /above 0/],
      ['--ace-delay', '577h', /up to 24 days/],
      ['--reminder-period', '999ms', /at least 1s/],
    ];
    for (const [flag, value, expected] of cases) {
      let message = '';
      try {
        parseInvocation(['emulate', `${flag}=${value}`], {});
      } catch (error) {
        expect(error, `${flag} ${value}`).toMatchObject({ code: 'JH_ERR_INVALID_CONFIG' });
        message = (error as Error).message;
      }
      expect(message, `${flag} ${value}`).toMatch(new RegExp(`^${flag}: `));
      expect(message, `${flag} ${value}`).toMatch(expected);
    }
  });
});
