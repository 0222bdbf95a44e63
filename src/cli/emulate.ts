import type { Config } from '../config.js';
import { createEmulator } from '../emulator/server.js';
import { createLogger } from './runtime.js';

/** `jobhook emulate`: the RingCentral AI API emulator, until SIGTERM/SIGINT. */
export async function emulate(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const logger = createLogger(config);
  const emulator = createEmulator(config.emulator, logger);
  const address = await emulator.listen(config.port, config.host);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  out.write(
    [
      'RingCentral AI API emulator is serving',
      `  API        ${url}  (set RC_SERVER_URL=${url}; any client id/secret and well-formed JWT log in)`,
      `  control    ${url}/_emulator/jobs`,
      `  settings   ${JSON.stringify(config.emulator)}`,
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
