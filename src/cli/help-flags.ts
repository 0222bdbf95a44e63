/**
 * Every flag's line in the help, by name: the flag as typed, what it does, and its variable and default.
 * Commands in help.ts list the names they take; two entries may share a flag whose meaning differs by command
 * (`--port` of the receiver and of `jobhook emulate`).
 */
export interface Flag {
  /** `--port <n>`: the flag as typed. */
  readonly usage: string;
  readonly what: string;
  readonly env?: string;
  readonly default?: string;
}

export const FLAGS = {
  host: { usage: '--host <addr>', what: 'receiver interface', env: 'JOBHOOK_HOST', default: '127.0.0.1' },
  port: { usage: '--port <n>', what: 'receiver port (0 = any)', env: 'JOBHOOK_PORT', default: '3000' },
  'emulator-own-port': {
    usage: '--port <n>',
    what: 'emulator port (0 = any)',
    env: 'JOBHOOK_EMULATOR_PORT',
    default: '8787',
  },
  'local-port': {
    usage: '--local-port <n>',
    what: 'inspector + local API port',
    env: 'JOBHOOK_LOCAL_PORT',
    default: '4040',
  },
  'local-host': {
    usage: '--local-host <addr>',
    what: 'inspector + local API interface',
    env: 'JOBHOOK_LOCAL_HOST',
    default: '127.0.0.1',
  },
  'local-token': {
    usage: '--local-token <text>',
    what: 'required on every inspector/API request; needed when --local-host is not loopback',
    env: 'JOBHOOK_LOCAL_TOKEN',
  },
  'public-url': {
    usage: '--public-url <url>',
    what: 'base URL RingCentral calls back',
    env: 'JOBHOOK_PUBLIC_URL',
    default: 'http://<host>:<port>',
  },
  tunnel: {
    usage: '--tunnel ngrok',
    what: 'open an ngrok tunnel to the receiver (NGROK_AUTHTOKEN) and use its URL as the public URL',
    env: 'JOBHOOK_TUNNEL',
  },
  db: {
    usage: '--db <file|url>',
    what: 'SQLite database file, or postgres://… URL shared by several instances',
    env: 'JOBHOOK_DATABASE_URL, JOBHOOK_DB',
    default: './jobhook.db',
  },
  'path-prefix': {
    usage: '--path-prefix <path>',
    what: 'callback path prefix',
    env: 'JOBHOOK_PATH_PREFIX',
    default: '/webhooks',
  },
  'max-body': {
    usage: '--max-body <size>',
    what: 'largest accepted delivery',
    env: 'JOBHOOK_MAX_BODY',
    default: '64MiB',
  },
  'log-level': {
    usage: '--log-level <level>',
    what: 'fatal|error|warn|info|debug|trace|silent',
    env: 'JOBHOOK_LOG_LEVEL',
    default: 'info',
  },
  'log-format': {
    usage: '--log-format <f>',
    what: 'pretty (one line per event) or json',
    env: 'JOBHOOK_LOG_FORMAT',
    default: 'pretty on a terminal, else json',
  },
  'env-file': {
    usage: '--env-file <path>',
    what: 'read RC_* credentials from this .env file (else ./.env or a parent folder)',
    env: 'JOBHOOK_ENV_FILE',
  },
  accept: {
    usage: '--accept <path>',
    what: 'also take deliveries on this fixed path, unverified (repeatable)',
    env: 'JOBHOOK_ACCEPT',
  },
  state: { usage: '--state <state>', what: 'only this state (pending|succeeded|failed|expired|rejected|unknown)' },
  'api-filter': { usage: '--api <path>', what: 'only this API path' },
  'api-record': { usage: '--api <path>', what: 'record this API path on the request' },
  kind: {
    usage: '--kind <kind>',
    what: 'job, or subscription: a push-notification address, its verification token on stderr (in --json)',
    default: 'job',
  },
  limit: { usage: '--limit <n>', what: 'at most n rows', default: '50' },
  json: { usage: '--json', what: 'print JSON instead of text' },
  'content-uri': {
    usage: '--content-uri <url>',
    what: 'media URL of an audio job (http or https; encoding guessed from the extension)',
  },
  encoding: { usage: '--encoding <e>', what: "audio encoding when the URL's extension does not tell it" },
  body: { usage: '--body <file|->', what: "the job's JSON body, from a file or - for stdin" },
  wait: { usage: '--wait', what: 'wait for the result, showing progress on stderr, then print it' },
  timeout: { usage: '--timeout <d>', what: 'give up waiting after this long (the job goes on)', default: '10m' },
  out: { usage: '--out <file>', what: 'write the full result to this file' },
  format: { usage: '--format <f>', what: 'json, txt (speaker turns), srt or vtt (captions)', default: 'json' },
  'older-than': {
    usage: '--older-than <d>',
    what: 'only jobs pending longer than this; 0 checks every one',
    default: '5m',
  },
  'emulator-port': {
    usage: '--emulator-port <n>',
    what: 'port of the jobhook dev emulator',
    env: 'JOBHOOK_EMULATOR_PORT',
    default: '8787',
  },
  'forward-to': {
    usage: '--forward-to <url>',
    what: "POST each result's stored bytes there, signed with Standard Webhooks headers (secret: JOBHOOK_FORWARD_SECRET, else kept in the database)",
    env: 'JOBHOOK_FORWARD_TO',
  },
  'handler-lease': {
    usage: '--handler-lease <d>',
    what: "a forward in flight is this instance's this long; after it (the instance died) another instance sends it again",
    env: 'JOBHOOK_HANDLER_LEASE',
    default: '60s',
  },
  'rate-budget': {
    usage: '--rate-budget <n/window>',
    what: "RingCentral's Heavy-group limit for this app and user, shared by every process on the database (raised limits: say so)",
    env: 'JOBHOOK_RATE_BUDGET',
    default: '10/min (unlimited against a local emulator)',
  },
  'shutdown-timeout': {
    usage: '--shutdown-timeout <d>',
    what: 'on SIGTERM/SIGINT, in-flight deliveries and forwards get this long; exit 1 if anything still hangs',
    env: 'JOBHOOK_SHUTDOWN_TIMEOUT',
    default: '10s',
  },
  filter: {
    usage: '--filter <eventFilter>',
    what: 'an event filter to subscribe to, e.g. /restapi/v1.0/account/~/telephony/sessions (repeatable)',
  },
  name: { usage: '--name <name>', what: "the subscription's local name", default: 'ace, or derived from the filters' },
  'expires-in': {
    usage: '--expires-in <d>',
    what: 'lifetime asked for: 3600, 90m, 7d, 10y; sent explicitly at the top level, clamped to --max-expires-in',
    default: 'the maximum',
  },
  'max-expires-in': {
    usage: '--max-expires-in <d>',
    what: 'largest expiresIn ever sent (the spec: 10 years for WebHook)',
    env: 'JOBHOOK_MAX_EXPIRES_IN',
    default: '315360000 (10y)',
  },
  domains: {
    usage: '--domains <list>',
    what: 'ACE domains, comma-separated: pbx, rcv, rcx, ms-teams, nice-incontact',
    default: 'all five',
  },
  replace: {
    usage: '--replace',
    what: 'replace the kept subscription of the same name (deleted on the platform first)',
  },
  'keeper-interval': {
    usage: '--keeper-interval <d>',
    what: 'how often the subscription keeper lists, renews, re-creates and moves the kept subscriptions',
    env: 'JOBHOOK_KEEPER_INTERVAL',
    default: '60s',
  },
  latency: { usage: '--latency <d|d-d>', what: 'processing time, e.g. 2s or 500ms-5s', default: '500ms-2s' },
  'fail-rate': { usage: '--fail-rate <0..1>', what: 'share of jobs that end Fail', default: '0' },
  'drop-rate': { usage: '--drop-rate <0..1>', what: 'share of results never delivered (status only)', default: '0' },
  'duplicate-rate': { usage: '--duplicate-rate <0..1>', what: 'share of results delivered 2-3 times', default: '0' },
  'unavailable-rate': { usage: '--unavailable-rate <0..1>', what: 'share of submits answered 503', default: '0' },
  delay: { usage: '--delay <d>', what: 'extra wait before each delivery', default: '0' },
  reorder: { usage: '--reorder', what: 'deliver results shuffled across jobs', default: 'off' },
  'reorder-window': { usage: '--reorder-window <d>', what: 'how long results are held to be shuffled', default: '2s' },
  'rate-limit': {
    usage: '--rate-limit <n/w>',
    what: 'Heavy group limit shared by submits and status reads, e.g. 10/min',
    default: 'off',
  },
  retries: { usage: '--retries <n>', what: 'redeliveries after a non-200 or timeout (0 = none)', default: '5' },
  'retry-backoff': { usage: '--retry-backoff <d>', what: 'first redelivery delay, doubling', default: '2s' },
  'attempt-timeout': {
    usage: '--attempt-timeout <d>',
    what: 'a delivery attempt with no answer fails after',
    default: '10s',
  },
  seed: { usage: '--seed <text>', what: 'seeds every random choice', default: 'jobhook' },
  'strict-client': {
    usage: '--strict-client',
    what: 'check RC_APP_CLIENT_ID/RC_APP_CLIENT_SECRET at login',
    default: 'off',
  },
  'subscription-limit': {
    usage: '--subscription-limit <n>',
    what: 'subscriptions per user; the next create answers 403 SUB-505',
    default: '30',
  },
  'blacklist-after': {
    usage: '--blacklist-after <n>',
    what: 'failed notifications in a row that blacklist a subscription',
    default: '10',
  },
  'notify-timeout': {
    usage: '--notify-timeout <d>',
    what: 'a notification with no answer fails after',
    default: '3s',
  },
  'notify-retries': {
    usage: '--notify-retries <n>',
    what: 'redeliveries of a failed notification (0 = none)',
    default: '2',
  },
  'ace-delay': {
    usage: '--ace-delay <d>',
    what: 'from a simulated ACE call to its first insights event',
    default: '1s',
  },
  'reminder-period': {
    usage: '--reminder-period <d>',
    what: 'renewal-reminder job period, also the smallest threshold/interval (at least 1s)',
    default: '60s',
  },
} as const satisfies Record<string, Flag>;

export type FlagName = keyof typeof FLAGS;
