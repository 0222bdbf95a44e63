import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobhookError } from './errors.js';

/**
 * Starts `server` on `host:port` (0 picks a free port) and resolves with the bound address. A port in use
 * or a host that cannot be bound becomes a JH_ERR_INVALID_CONFIG that names it.
 */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'is already in use (another jobhook?); choose another port'
          : error.code === 'EADDRNOTAVAIL'
            ? 'is not an address of this machine'
            : `cannot be bound (${error.code ?? error.message})`;
      reject(new JobhookError('JH_ERR_INVALID_CONFIG', `${host}:${port} ${why}`, { cause: error }));
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve(server.address() as AddressInfo);
    });
  });
}
