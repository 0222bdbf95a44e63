import type { StoreReader } from '../store/store.js';

/**
 * Awaiters by request ID behind one store subscription, so 10 000 concurrent `result()` calls cost one
 * map entry each and no polling of their own. The subscription exists only while someone waits.
 */
export class Waiters {
  readonly #byRequest = new Map<string, Set<() => void>>();
  readonly #store: StoreReader;
  #unsubscribe: (() => void) | null = null;

  constructor(store: StoreReader) {
    this.#store = store;
  }

  /** Calls `wake` when the request settles; returns the function that stops waiting. */
  add(requestId: string, wake: () => void): () => void {
    this.#unsubscribe ??= this.#store.onSettled(
      (event) => {
        for (const fn of this.#byRequest.get(event.requestId) ?? []) fn();
      },
      // Hints were lost (the store's connection dropped): every waiter re-reads its request.
      () => {
        for (const set of [...this.#byRequest.values()]) for (const fn of [...set]) fn();
      },
    );
    let set = this.#byRequest.get(requestId);
    if (!set) this.#byRequest.set(requestId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.#byRequest.delete(requestId);
      if (this.#byRequest.size === 0 && this.#unsubscribe) {
        this.#unsubscribe();
        this.#unsubscribe = null;
      }
    };
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byRequest.values()) n += set.size;
    return n;
  }
}
