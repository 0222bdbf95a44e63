import { JobhookError } from '../errors.js';

/**
 * `--tunnel ngrok`: exposes only the public receiver through the ngrok agent library (`@ngrok/ngrok`),
 * authenticated with NGROK_AUTHTOKEN, and returns its URL as the public base URL. The library is the
 * boundary: tests pass a stand-in with the same `forward` shape instead of reaching ngrok's cloud.
 */
export interface TunnelListener {
  url(): string | null;
  close(): Promise<void>;
}

export interface NgrokLike {
  forward(config: { addr: string; authtoken_from_env: boolean }): Promise<TunnelListener>;
}

export interface Tunnel {
  url: string;
  close(): Promise<void>;
}

export async function openTunnel(
  kind: string,
  receiverPort: number,
  env: NodeJS.ProcessEnv = process.env,
  ngrok?: NgrokLike,
): Promise<Tunnel> {
  if (kind !== 'ngrok')
    throw new JobhookError(
      'JH_ERR_INVALID_CONFIG',
      `--tunnel: unknown kind ${kind}; use ngrok, or give any other tunnel's URL with --public-url`,
    );
  if (!env.NGROK_AUTHTOKEN) {
    throw new JobhookError('JH_ERR_INVALID_CONFIG', '--tunnel ngrok needs NGROK_AUTHTOKEN (from the ngrok dashboard)');
  }
  const agent: NgrokLike = ngrok ?? (await import('@ngrok/ngrok'));
  let listener: TunnelListener;
  try {
    // Only the public listener: the inspector and local API never leave this machine.
    listener = await agent.forward({ addr: `127.0.0.1:${receiverPort}`, authtoken_from_env: true });
  } catch (error) {
    throw new JobhookError('JH_ERR_INVALID_CONFIG', `ngrok could not open a tunnel: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const url = listener.url();
  if (!url) throw new JobhookError('JH_ERR_INVALID_CONFIG', 'ngrok opened a tunnel without a URL');
  return { url: url.replace(/\/+$/, ''), close: () => listener.close() };
}
