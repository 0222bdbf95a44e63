import { createJobhook, type Jobhook, type JobhookOptions } from '../../src/client/jobhook.js';
import type { EmulatorOptions } from '../../src/emulator/options.js';
import { createEmulator, type Emulator } from '../../src/emulator/server.js';
import { startHarness, type Harness } from './receiver-harness.js';
import { fakeJwt } from './webhook-sink.js';

/** The whole loop on loopback: emulator → receiver (SQLite file) ← client, as `jobhook dev` wires it. */
export interface Loop {
  emulator: Emulator;
  emulatorUrl: string;
  harness: Harness;
  jobhook: Jobhook;
  close(): Promise<void>;
}

export async function startLoop(
  dbPath: string,
  emulatorOptions: Partial<EmulatorOptions> = {},
  clientOptions: Partial<JobhookOptions> = {},
): Promise<Loop> {
  const emulator = createEmulator({ latency: { minMs: 10, maxMs: 50 }, ...emulatorOptions });
  const emulatorUrl = `http://127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const harness = await startHarness(dbPath);
  const jobhook = await createJobhook({
    store: harness.store,
    publicUrl: harness.baseUrl,
    ringcentral: { server: emulatorUrl, clientId: 'test-client', clientSecret: 'test-secret', jwt: fakeJwt() },
    retryBaseMs: 20,
    // The emulator here has no rate limit unless a test sets one (and then its X-Rate-Limit headers are
    // adopted): RingCentral's default budget of 10 a minute would only slow every test down.
    rateBudget: { capacity: 100_000, windowMs: 1000 },
    ...clientOptions,
  });
  return {
    emulator,
    emulatorUrl,
    harness,
    jobhook,
    async close() {
      await jobhook.close();
      await harness.close();
      await emulator.close();
    },
  };
}
