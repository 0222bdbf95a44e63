import { hostname } from 'node:os';
import type { Store } from '../store/store.js';

/**
 * A running `serve`/`dev` records where RingCentral reaches it (public URL, path prefix) in the store, so
 * `jobhook mint`/`submit` in a second terminal mint URLs that server accepts — whatever its port, prefix or
 * tunnel — instead of guessing `http://127.0.0.1:3000/webhooks`. Flags given to those commands still win.
 */
export interface AdvertisedServer {
  publicUrl: string;
  pathPrefix: string;
  pid: number;
  host: string;
  startedAt: string;
}

const KEY = 'advertised_server';

export async function advertiseServer(store: Store, info: { publicUrl: string; pathPrefix: string }): Promise<void> {
  const record: AdvertisedServer = { ...info, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  await store.putSetting(KEY, JSON.stringify(record));
}

/**
 * The server recorded in the store, or null. A record from this machine whose process is gone is still
 * returned (a stopped server's URL is the best guess, and a restart usually keeps it) but marked `stale`.
 */
export async function readAdvertisedServer(store: Store): Promise<(AdvertisedServer & { stale: boolean }) | null> {
  const raw = await store.getSetting(KEY);
  if (raw === null) return null;
  let record: AdvertisedServer;
  try {
    record = JSON.parse(raw) as AdvertisedServer;
  } catch {
    return null;
  }
  if (typeof record.publicUrl !== 'string' || typeof record.pathPrefix !== 'string') return null;
  return { ...record, stale: record.host === hostname() && !isAlive(record.pid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
