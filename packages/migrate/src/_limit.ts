/**
 * A concurrency limit for key-service calls: at most `n` run at once, the rest wait in order.
 * The client's own rate budget still applies to each call; this bounds how many are in flight.
 * @module
 */

/** Runs async work with at most `n` tasks in flight. */
export class Limiter {
  readonly #n: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(n: number) {
    this.#n = n;
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so that a caller arriving in
    // between cannot take it as well.
    if (this.#active >= this.#n) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#active--;
    }
  }
}
