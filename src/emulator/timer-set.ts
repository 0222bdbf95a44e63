/**
 * The emulator's pending deliveries and events as timers it can cancel all at once (`/_emulator/reset`,
 * close), none of them keeping the process alive.
 */
export class TimerSet {
  readonly #timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms` unless cleared first. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
