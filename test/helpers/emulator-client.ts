import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import type { EmulatorOptions } from '../../src/emulator/options.js';
import { fakeJwt } from './webhook-sink.js';

/** A started emulator plus a raw HTTP client with a token, for wire-level tests. */
export interface EmulatorHarness {
  emulator: Emulator;
  base: string;
  token: string;
  submit(path: string, body: unknown, query?: string, headers?: Record<string, string>): Promise<Response>;
  status(jobId: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<EmulatorHarness> {
  const emulator = createEmulator({ latency: { minMs: 10, maxMs: 30 }, ...options });
  const base = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const tokenResponse = await fetch(`${base}/restapi/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('id:secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: fakeJwt() }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };
  return {
    emulator,
    base,
    token,
    submit: (path, body, query = '', headers = {}) =>
      fetch(`${base}${path}${query}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    status: (jobId) => fetch(`${base}/ai/status/v1/jobs/${jobId}`, { headers: auth }),
    close: () => emulator.close(),
  };
}
