import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';

/**
 * Whether a webhook URL points at the emulator's own listener. A job delivering to itself could drive the
 * control API (a webhook at `/_emulator/reset` wiped every job and token when its result arrived), so
 * such webhooks are refused at submit.
 *
 * Judged on the URL alone, after WHATWG parsing has normalised the host (`2130706433`, `0x7f.1` and
 * `[0:0::1]` arrive here as `127.0.0.1` and `[::1]`): the same port on a loopback or unspecified address,
 * a `localhost` name, the address the emulator listens on, or an address of this machine. A public DNS
 * name that resolves to one of these is not caught; that would need a lookup at delivery time.
 */
export function pointsAtListener(
  webhook: string,
  listener: Pick<AddressInfo, 'address' | 'port'>,
  ownAddresses: ReadonlySet<string> = localAddresses(),
): boolean {
  let url: URL;
  try {
    url = new URL(webhook);
  } catch {
    return false;
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port !== listener.port) return false;
  const host = normalizeHost(url.hostname);
  return isLoopbackOrAny(host) || host === normalizeHost(listener.address) || ownAddresses.has(host);
}

/** Lower-cased, without IPv6 brackets or a trailing dot, IPv4-mapped IPv6 as dotted IPv4. */
function normalizeHost(hostname: string): string {
  const host = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const mapped = /^::ffff:(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/.exec(host);
  if (!mapped) return host;
  if (mapped[3] !== undefined) return mapped[3];
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function isLoopbackOrAny(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === '0.0.0.0' ||
    host === '::1' ||
    host === '::'
  );
}

/** Every address of this machine's interfaces, normalised like a URL host. */
function localAddresses(): Set<string> {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) addresses.add(normalizeHost(info.address));
  }
  return addresses;
}
