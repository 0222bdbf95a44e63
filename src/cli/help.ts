/**
 * The CLI's help: `jobhook --help` prints HELP, a short overview listing commands; `jobhook <command> --help`
 * and `jobhook help <command>` print `commandHelp(command)`: synopsis, that command's flags with their
 * variables and defaults, and examples. Keep in step with the README's CLI section.
 *
 * To add a command: add its entry to COMMANDS below (summary, synopsis, flags by name, at least one example)
 * and its dispatch line in main.ts. To add a flag: add its line to FLAGS in help-flags.ts (as typed, what it
 * does, and `env` and `default` when it has them), then list its name in each command here that takes it. test/config.test.ts
 * checks that every flag in config.ts appears somewhere in the help (`allHelpText()`).
 */
import { FLAGS, type Flag, type FlagName } from './help-flags.js';

interface CommandHelp {
  /** One line for the overview. */
  readonly summary: string;
  /** `jobhook <command> …` as typed. */
  readonly synopsis: string;
  /** Paragraphs after the synopsis, when the summary is not enough. */
  readonly details?: string;
  readonly flags: readonly FlagName[];
  readonly examples: readonly string[];
}

const SERVER_FLAGS: readonly FlagName[] = [
  'host',
  'port',
  'local-port',
  'local-host',
  'local-token',
  'public-url',
  'tunnel',
  'accept',
  'forward-to',
  'db',
  'path-prefix',
  'max-body',
  'shutdown-timeout',
  'handler-lease',
  'keeper-interval',
  'max-expires-in',
  'rate-budget',
  'env-file',
  'log-level',
  'log-format',
];
const FAULT_FLAGS: readonly FlagName[] = [
  'latency',
  'fail-rate',
  'drop-rate',
  'duplicate-rate',
  'unavailable-rate',
  'delay',
  'reorder',
  'reorder-window',
  'rate-limit',
  'retries',
  'retry-backoff',
  'attempt-timeout',
  'seed',
  'strict-client',
];
/** The push-notification side: subscriptions, their notifications, and simulated ACE calls. */
const SUBSCRIPTION_FLAGS: readonly FlagName[] = [
  'subscription-limit',
  'blacklist-after',
  'notify-timeout',
  'notify-retries',
  'ace-delay',
  'reminder-period',
];

/** One body per API, as validate-input.ts checks them (the emulator refuses what the platform would). */
const SUBMIT_BODIES = `APIs and a body for each (--body file.json; audio APIs also take --content-uri URL alone):
  speech-to-text       {"contentUri":"https://example.com/call.mp3","encoding":"Mpeg","languageCode":"en-US",
                        "enableSpeakerDiarization":true}
  speaker-diarize      {"contentUri":"https://example.com/call.mp3","encoding":"Mpeg","languageCode":"en-US"}
  speaker-identify     {"contentUri":"https://example.com/call.mp3","encoding":"Mpeg","languageCode":"en-US",
                        "speakerIds":["alice","bob"]}   (enrolled speakers: see enrollments)
  analyze-interaction  {"contentUri":"https://example.com/call.mp3","encoding":"Mpeg","languageCode":"en-US",
                        "insights":["All"]}
  recognize-emotion    {"contentUri":"https://example.com/call.mp3","encoding":"Mpeg","languageCode":"en-US"}
  punctuate            {"texts":["hello how are you i am fine"]}
  summarize            {"summaryType":"AbstractiveShort","utterances":[{"speakerId":"1","text":"We ship on Friday.",
                        "start":0,"end":2.5}]}
  <api> may also be the camelCase name (speechToText) or the full path (/ai/audio/v1/async/speech-to-text).
  Against the emulator only, a path may carry per-job faults: '/ai/audio/v1/async/speech-to-text?_emulator=fail'
  (drop, fail, duplicate=3, delay=2s, large…; see \`jobhook emulate --help\`); refused for the real platform.
  encoding: Mpeg, Mp4, Wav, Webm, Webp, Aac, Avi or Ogg; guessed from the URL's extension (.mp3 .m4a .wav
  .webm .ogg .opus …); any other extension (.flac) needs --encoding.
Waiting: progress on stderr says what happens next (the webhook, the next status read); Ctrl-C stops the
  wait, not the job (exit 130; re-attach with \`jobhook wait <requestId>\`). On a terminal a large result is
  summarised: --json or --out <file> for all of it.`;

const COMMANDS: Record<string, CommandHelp> = {
  dev: {
    summary: 'emulator + receiver + inspector + reconciliation, pointed at each other (npm start)',
    synopsis: 'jobhook dev [options]',
    details: 'Needs no credentials: submit from another terminal and watch the inspector page.',
    flags: ['emulator-port', ...SERVER_FLAGS, ...FAULT_FLAGS, ...SUBSCRIPTION_FLAGS],
    examples: ['jobhook dev', 'jobhook dev --port 3100 --local-port 4100 --emulator-port 8800 --fail-rate 0.2'],
  },
  serve: {
    summary: 'run the public webhook receiver and the local JSON API (reconciliation with RC_* credentials)',
    synopsis: 'jobhook serve [options]',
    flags: SERVER_FLAGS,
    examples: ['jobhook serve --tunnel ngrok', 'jobhook serve --public-url https://abc.ngrok.app --db ./jobs.db'],
  },
  submit: {
    summary: 'submit a job (--content-uri URL | --body file.json|-) [--wait]',
    synopsis: 'jobhook submit <api> (--content-uri <url> | --body <file|->) [--wait [--timeout <d>]] [--json]',
    details: `${SUBMIT_BODIES}\nWithout RC_* credentials it talks to the \`jobhook dev\` emulator (start it in another terminal).`,
    flags: [
      'content-uri',
      'encoding',
      'body',
      'wait',
      'timeout',
      'out',
      'json',
      'db',
      'emulator-port',
      'rate-budget',
      'env-file',
      'log-level',
    ],
    examples: [
      'jobhook submit speech-to-text --content-uri https://example.com/call.mp3 --wait',
      'jobhook submit summarize --body summarize.json --wait --timeout 2m --json',
      'echo \'{"texts":["hello world"]}\' | jobhook submit punctuate --body -',
    ],
  },
  wait: {
    summary: 'wait for the result of an earlier request (submitted by any process), then print it',
    synopsis: 'jobhook wait <requestId|jobId|prefix> [--timeout <d>] [--json | --out <file>]',
    details:
      'The result arrives through a running serve/dev (webhook or status read); this only watches the database.\n' +
      'Exit codes: 0 result, 3 job failed, 4 timeout (the job goes on), 5 expired, 130 Ctrl-C.',
    flags: ['timeout', 'out', 'json', 'db', 'log-level'],
    examples: ['jobhook wait 0192f3a1', 'jobhook wait 0192f3a1 --timeout 30m --out result.json'],
  },
  enroll: {
    summary: 'speaker enrollments for speaker-identify: list, create, delete',
    synopsis: 'jobhook enroll list | create <speakerId> --content-uri <url> [--encoding <e>] | delete <speakerId>',
    details:
      'create downloads the audio (at most 64 MiB) and sends it as the API wants it, base64 in the body.\n' +
      'Same credentials as submit: without RC_* variables, the `jobhook dev` emulator.',
    flags: ['content-uri', 'encoding', 'json', 'emulator-port', 'env-file', 'log-level'],
    examples: [
      'jobhook enroll create alice --content-uri https://example.com/alice.wav',
      'jobhook enroll list --json',
      'jobhook enroll delete alice',
    ],
  },
  reconcile: {
    summary: 'read pending jobs back through the status endpoint',
    synopsis: 'jobhook reconcile [--older-than <d>] [--json]',
    flags: ['older-than', 'json', 'db', 'emulator-port', 'rate-budget', 'env-file', 'log-level'],
    examples: ['jobhook reconcile --older-than 0'],
  },
  prune: {
    summary: 'forget rejected (or unknown) submissions that never led anywhere',
    synopsis: 'jobhook prune --state rejected|unknown [--older-than 5m]',
    details:
      'Deletes requests in that state created more than --older-than ago that have no delivery and no handler run;\n' +
      'a request that received anything is kept.',
    flags: ['state', 'older-than', 'db', 'json'],
    examples: ['jobhook prune --state rejected --older-than 0', 'jobhook prune --state unknown --older-than 168h'],
  },
  retry: {
    summary: "run a request's dead-lettered handlers (and forwards) again",
    synopsis: 'jobhook retry <requestId|jobId|prefix>',
    details: 'A running serve/dev picks them up. An id may be shortened to a unique prefix of 6 or more characters.',
    flags: ['db'],
    examples: ['jobhook retry 0192f3a1'],
  },
  export: {
    summary: "print a job's result or an ACE record's transcript as json, txt, srt or vtt",
    synopsis: 'jobhook export <requestId|jobId|prefix|domain:sourceRecordId> [--format json|txt|srt|vtt]',
    flags: ['format', 'db'],
    examples: [
      'jobhook export 0192f3a1 --format srt > call.srt',
      'jobhook export 0192f3a1 --format txt | head',
      'jobhook export pbx:2728084995017 --format vtt > call.vtt',
    ],
  },
  mint: {
    summary: 'record a new request and print its callback URL (--kind subscription: a push-notification address)',
    synopsis: 'jobhook mint [--kind job|subscription] [--api <path>] [--json]',
    details:
      'Stdout is the URL alone. --kind subscription also prints "verification token: <token>" on stderr: create\n' +
      'the subscription with it as deliveryMode.verificationToken (--json: {requestId, callbackUrl, verificationToken}).',
    flags: ['kind', 'api-record', 'json', 'public-url', 'host', 'port', 'path-prefix', 'db'],
    examples: [
      'jobhook mint --public-url https://abc.ngrok.app --json',
      "jobhook mint --kind subscription --json | jq -r '.callbackUrl, .verificationToken'",
    ],
  },
  requests: {
    summary: 'list requests, newest first',
    synopsis: 'jobhook requests [--state <state>] [--api <path>] [--limit <n>] [--json]',
    flags: ['state', 'api-filter', 'limit', 'json', 'db'],
    examples: ['jobhook requests --state failed --limit 10'],
  },
  show: {
    summary: 'show a request with its deliveries and parsed envelopes',
    synopsis: 'jobhook show <requestId|jobId|prefix> [--json]',
    details: 'An id may be shortened to a unique prefix of 6 or more characters. Exit code 1 when not found.',
    flags: ['json', 'db'],
    examples: ['jobhook show 0192f3a1', 'jobhook show 0192f3a1-7c2e-7d51-9b0e-5a3f8e1c2d4b --json'],
  },
  subscribe: {
    summary: 'create a push-notification subscription delivering to this server, kept alive by serve/dev',
    synopsis:
      'jobhook subscribe --filter <eventFilter>… [--name <n>] [--expires-in <d>] [--replace] | jobhook subscribe ace [--domains <list>]',
    details:
      'A WebHook subscription through the official SDK: its address is a minted subscription URL of the running\n' +
      'serve/dev (the URL it recorded, or --public-url), with a verification token; expiresIn is sent at the top\n' +
      'level. Saved before the platform is called; a refused create stays listed as Failed, and a running serve/dev\n' +
      'keeps trying. Every filter the platform disables (a missing RingSense scope or permission) is a warning.\n' +
      'A name already kept is refused unless --replace. Same credentials as submit (the jobhook dev emulator without any).',
    flags: [
      'filter',
      'domains',
      'name',
      'expires-in',
      'max-expires-in',
      'replace',
      'public-url',
      'path-prefix',
      'json',
      'db',
      'emulator-port',
      'env-file',
      'log-level',
    ],
    examples: [
      'jobhook subscribe ace',
      'jobhook subscribe ace --domains pbx,rcv --name calls-and-meetings',
      'jobhook subscribe --filter /restapi/v1.0/account/~/telephony/sessions --expires-in 30d',
    ],
  },
  subscriptions: {
    summary: 'list the kept subscriptions: status, platform id, expiry, last event, blacklist reason, disabled filters',
    synopsis: 'jobhook subscriptions [--json]',
    flags: ['json', 'db'],
    examples: ['jobhook subscriptions', 'jobhook subscriptions --json'],
  },
  unsubscribe: {
    summary: 'delete a kept subscription on the platform (already gone is fine) and forget it',
    synopsis: 'jobhook unsubscribe <name|platformId>',
    flags: ['json', 'db', 'emulator-port', 'env-file', 'log-level'],
    examples: ['jobhook unsubscribe ace'],
  },
  insights: {
    summary: 'ACE insight records: list them, or show one (read back through REST when not stored)',
    synopsis: 'jobhook insights [<domain> <sourceRecordId>] [--json]',
    details:
      'Domains: pbx, rcv, rcx, ms-teams, nice-incontact. A record not stored yet (missed while the receiver was down)\n' +
      "is read back through ACE's REST endpoint and stored as the webhook would have. Same credentials as submit.",
    flags: ['json', 'limit', 'db', 'emulator-port', 'env-file', 'log-level'],
    examples: ['jobhook insights', 'jobhook insights pbx 2728084995017 --json'],
  },
  doctor: {
    summary:
      'pre-flight before going live: credentials, app scopes, ACE permission, public URL handshake, subscriptions',
    synopsis: 'jobhook doctor [--public-url <url>] [--json]',
    details: 'Exit 0 when nothing failed (warnings allowed); 2 configuration, 6 platform unreachable, 7 database.',
    flags: ['public-url', 'json', 'db', 'emulator-port', 'env-file', 'log-level'],
    examples: ['jobhook doctor', 'jobhook doctor --public-url https://abc.ngrok.app --json'],
  },
  'rotate-secret': {
    summary: 'add a new callback secret; URLs minted with older ones keep working',
    synopsis: 'jobhook rotate-secret',
    details: 'Restart running servers afterwards so they mint with the new secret.',
    flags: ['db'],
    examples: ['jobhook rotate-secret --db ./jobs.db'],
  },
  emulate: {
    summary: 'run a local emulator of the RingCentral AI API alone',
    synopsis: 'jobhook emulate [options]',
    flags: ['host', 'emulator-own-port', ...FAULT_FLAGS, ...SUBSCRIPTION_FLAGS, 'log-level', 'log-format'],
    examples: [
      'jobhook emulate --port 8787 --drop-rate 0.3 --duplicate-rate 0.2 --seed demo',
      'jobhook emulate --subscription-limit 1 --notify-retries 0 --blacklist-after 1 --ace-delay 100ms',
    ],
  },
};

/** Every command name, in the overview's order (for "did you mean" and dispatch checks). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

function renderFlag(flag: Flag): string {
  const extra = [flag.env, flag.default === undefined ? undefined : `default ${flag.default}`].filter(Boolean);
  // At least two spaces between a flag and its text, however long the flag (`--rate-budget <n/window>`).
  return `  ${`${flag.usage}  `.padEnd(26)}${flag.what}${extra.length ? `  (${extra.join(', ')})` : ''}`;
}

export const HELP = `jobhook: awaitable jobs for webhook-delivered APIs (RingCentral AI API)

Usage: jobhook <command> [options]

Commands:
${COMMAND_NAMES.map((name) => `  ${name.padEnd(16)}${COMMANDS[name]!.summary}`).join('\n')}
  help <command>  that command's options and examples (same as jobhook <command> --help)

Common options: --db <file> (default ./jobhook.db), --json, --log-level <level>, -h/--help, --version.
Credentials (submit, reconcile, serve, subscribe, insights, doctor): RC_SERVER_URL, RC_APP_CLIENT_ID,
RC_APP_CLIENT_SECRET, RC_USER_JWT (aliases RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT; the first name wins) from
the environment or the nearest .env up to the project root (--env-file); all four or none. With none, only a
local emulator (RC_SERVER_URL unset or on 127.0.0.1) is used, with made-up credentials.
Exit codes: 0 ok, 1 not found, 2 usage, 3 job failed, 4 timeout, 5 expired, 6 unreachable, 7 database
(docs/errors.md).

Run \`jobhook <command> --help\` for a command's options and examples. Start with: jobhook dev
`;

/** `jobhook <command> --help`, or undefined for a command that does not exist. */
export function commandHelp(name: string): string | undefined {
  const command = COMMANDS[name];
  if (!command) return undefined;
  return [
    `Usage: ${command.synopsis}`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    '',
    'Options (flag > environment variable > default):',
    ...command.flags.map((name) => renderFlag(FLAGS[name])),
    '  -h, --help              this help',
    '',
    'Examples:',
    ...command.examples.map((example) => `  ${example}`),
    '',
  ].join('\n');
}

/** The overview and every command's help (for documentation checks). */
export function allHelpText(): string {
  return [HELP, ...COMMAND_NAMES.map((name) => commandHelp(name)!)].join('\n');
}
