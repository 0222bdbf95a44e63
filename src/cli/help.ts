/** `jobhook --help`. Keep in step with the README's CLI section. */
export const HELP = `jobhook: awaitable jobs for webhook-delivered APIs (RingCentral AI API)

Usage: jobhook <command> [options]

Commands:
  dev                    emulator + receiver + local API + reconciliation, pointed at each other (npm start)
  serve                  run the public webhook receiver and the local JSON API (and reconciliation
                         when RC_* credentials are set)
  submit <api>           submit a job (--content-uri URL | --body file.json|-) [--wait] [--timeout 10m]
  reconcile              read pending jobs back through the status endpoint [--older-than 5m]
  retry <requestId|jobId> run a request's dead-lettered handlers (and forwards) again
  export <id>            a result as --format json|txt|srt|vtt (captions from word timings)
  mint                   record a new request and print its callback URL
  requests               list requests, newest first
  show <requestId|jobId> show a request with its deliveries and parsed envelopes
  rotate-secret          add a new callback secret; URLs minted with older ones keep working
  emulate                run a local emulator of the RingCentral AI API (default port 8787)

Options (flag > environment variable > default):
  --host <addr>          receiver interface          JOBHOOK_HOST         127.0.0.1
  --port <n>             receiver port (0 = any)     JOBHOOK_PORT         3000
  --local-port <n>       inspector + local API port  JOBHOOK_LOCAL_PORT   4040
  --local-host <addr>    inspector + local API host  JOBHOOK_LOCAL_HOST   127.0.0.1
  --local-token <text>   required on every inspector/API request; needed
                         when --local-host is not loopback
                                                     JOBHOOK_LOCAL_TOKEN
  --public-url <url>     base URL RingCentral calls  JOBHOOK_PUBLIC_URL   http://<host>:<port>
  --tunnel ngrok         serve/dev: open an ngrok tunnel to the receiver (NGROK_AUTHTOKEN) and
                         use its URL as the public URL   JOBHOOK_TUNNEL
  --db <file>            SQLite database file        JOBHOOK_DB           ./jobhook.db
  --path-prefix <path>   callback path prefix        JOBHOOK_PATH_PREFIX  /webhooks
  --max-body <size>      largest accepted delivery   JOBHOOK_MAX_BODY     64MiB
  --log-level <level>    fatal|error|warn|info|debug|trace|silent
                                                     JOBHOOK_LOG_LEVEL    info
  --state <state>        requests: only this state (pending|succeeded|failed|expired)
  --api <path>           requests: only this API path
  --limit <n>            requests: at most n rows (default 50)
  --json                 print JSON instead of text
  --content-uri <url>    submit: media URL of an audio job (encoding guessed from the extension)
  --body <file|->        submit: the job's JSON body, from a file or stdin
  --wait                 submit: wait for the result, showing progress, then print it
  --timeout <d>          submit --wait: give up waiting after this long                 10m
  --format <f>           export: json, txt, srt or vtt                                  json
  --older-than <d>       reconcile: only jobs older than this; 0 checks every pending one 5m
  --emulator-port <n>    dev: port of the embedded emulator  JOBHOOK_EMULATOR_PORT       8787
  --forward-to <url>     serve/dev: POST each result's stored bytes there, signed with
                         Standard Webhooks headers            JOBHOOK_FORWARD_TO
                         (secret: JOBHOOK_FORWARD_SECRET, else generated and kept in the database)
  --shutdown-timeout <d> serve/dev: on SIGTERM/SIGINT, in-flight deliveries and forwards get this
                         long, then are cut off to be retried; exit 1 if anything still hangs
                                                     JOBHOOK_SHUTDOWN_TIMEOUT     10s

Credentials (submit, reconcile, serve): RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, from the
environment or a .env file; without them, the local emulator of \`jobhook dev\` is used.

Emulator options (jobhook emulate):
  --port <n>             emulator port (0 = any)     JOBHOOK_EMULATOR_PORT 8787
  --latency <d|d-d>      processing time, e.g. 2s or 500ms-5s               500ms-2s
  --fail-rate <0..1>     share of jobs that end Fail                        0
  --drop-rate <0..1>     share of results never delivered (status only)     0
  --duplicate-rate <0..1> share of results delivered 2-3 times              0
  --unavailable-rate <0..1> share of submits answered 503                   0
  --delay <d>            extra wait before each delivery                    0
  --reorder              deliver results shuffled across jobs               off
  --reorder-window <d>   how long results are held to be shuffled           2s
  --rate-limit <n/w>     Heavy group limit shared by submits and status
                         reads, e.g. 10/min (the documented default)        off
  --retries <n>          redeliveries after a non-200 or timeout (0 = none) 5
  --retry-backoff <d>    first redelivery delay, doubling                   2s
  --attempt-timeout <d>  a delivery attempt with no answer fails after     10s
  --seed <text>          seeds every random choice                          jobhook
  --strict-client        check RC_CLIENT_ID/RC_CLIENT_SECRET at login       off
  -h, --help             this help
  --version              print the version
`;
