import type { PlatformAnswer } from '../../src/ringcentral/platform.js';

/** The most of `timesMs` that fall in any window `[t, t + windowMs)`: what a sliding-window limit counts. */
export function maxInAnyWindow(timesMs: number[], windowMs: number): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; first < sorted.length; first++) {
    while (last < sorted.length && sorted[last]! < sorted[first]! + windowMs) last++;
    most = Math.max(most, last - first);
  }
  return most;
}

/** A platform answer with `headers`, for gates fed without a server. */
export function answer(status: number, headers: Record<string, string> = {}): PlatformAnswer {
  return { status, headers: new Headers(headers), body: Buffer.alloc(0), text: '' };
}
