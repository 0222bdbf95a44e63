// bench:ingest's load, shared with bench:fleet: unique ~1 KB result envelopes POSTed by autocannon.
import autocannon from 'autocannon';

/** A ~1 KB speech-to-text envelope; `%N%` is replaced per request so no two bodies are identical. */
export const ENVELOPE = JSON.stringify({
  jobId: 'bench-%N%',
  api: '/ai/audio/v1/async/speech-to-text',
  creationTime: '2026-11-20T10:00:00.000Z',
  completionTime: '2026-11-20T10:00:04.250Z',
  expirationTime: '2026-11-27T10:00:00.000Z',
  status: 'Success',
  response: {
    confidence: 0.93,
    transcript: 'Thanks for calling Acme support, this is Dana. How can I help you today? My router keeps dropping.',
    words: ['thanks', 'for', 'calling', 'acme', 'support', 'this', 'is', 'dana', 'how', 'can', 'i', 'help'].map(
      (word, i) => ({ word, start: 0.4 + i * 0.3, end: 0.65 + i * 0.3, confidence: 0.95 }),
    ),
  },
});

/**
 * POSTs unique envelopes to `paths` (round robin) on `port` for `seconds` over `connections`; `nextN` numbers
 * the bodies (share one counter between loads that must not repeat each other's bodies). Resolves with
 * autocannon's result.
 */
export function postEnvelopes({ port, paths, connections, seconds, nextN }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              const n = nextN();
              return { ...request, path: paths[n % paths.length], body: ENVELOPE.replace('%N%', String(n)) };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}
