/**
 * A counting semaphore with an "idle" promise: at most `concurrency` holders at a time, waiters
 * served in arrival order. The ingest bridge holds aedes's callback while it waits for a slot, so
 * the number of waiters is bounded by the connected clients (each client is paused meanwhile).
 */
export class Limiter {
  #active = 0;
  readonly #waiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves with a release function once a slot is free. Call release exactly once. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.#active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#release();
        });
      };
      if (this.#active < this.concurrency) grant();
      else this.#waiters.push(grant);
    });
  }

  /** Resolves when nobody holds or waits for a slot. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #release(): void {
    this.#active--;
    const next = this.#waiters.shift();
    if (next) {
      next();
      return;
    }
    if (this.#active === 0) {
      const idle = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of idle) resolve();
    }
  }
}
