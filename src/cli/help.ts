/** `jobhook --help`. Keep in step with the README's CLI section. */
export const HELP = `jobhook: awaitable jobs for webhook-delivered APIs (RingCentral AI API)

Usage: jobhook <command> [options]

Commands:
  serve                  run the public webhook receiver and the local JSON API
  mint                   record a new request and print its callback URL
  requests               list requests, newest first
  show <requestId|jobId> show a request with its deliveries and parsed envelopes
  rotate-secret          add a new callback secret; URLs minted with older ones keep working

Options (flag > environment variable > default):
  --host <addr>          receiver interface          JOBHOOK_HOST         127.0.0.1
  --port <n>             receiver port (0 = any)     JOBHOOK_PORT         3000
  --local-port <n>       local API port on 127.0.0.1 JOBHOOK_LOCAL_PORT   4040
  --public-url <url>     base URL RingCentral calls  JOBHOOK_PUBLIC_URL   http://<host>:<port>
  --db <file>            SQLite database file        JOBHOOK_DB           ./jobhook.db
  --path-prefix <path>   callback path prefix        JOBHOOK_PATH_PREFIX  /webhooks
  --max-body <size>      largest accepted delivery   JOBHOOK_MAX_BODY     64MiB
  --log-level <level>    fatal|error|warn|info|debug|trace|silent
                                                     JOBHOOK_LOG_LEVEL    info
  --state <state>        requests: only this state (pending|succeeded|failed|expired)
  --api <path>           requests: only this API path
  --limit <n>            requests: at most n rows (default 50)
  --json                 print JSON instead of text
  -h, --help             this help
  --version              print the version
`;
