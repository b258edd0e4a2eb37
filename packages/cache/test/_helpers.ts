/**
 * Test doubles for the cache tests: a fake clock and a provider that counts calls, can be made
 * to fail, and can hold its answers until a test releases them.
 * @module
 */
import {
  type CreateDataKeyOptions,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  MemoryKeyProvider,
} from '@vault-envelope/core';

/** A clock that moves only when told. */
export class FakeClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Every call a {@link CountingProvider} received. */
export interface ProviderCall {
  kind: 'create' | 'decrypt';
  context?: KeyContext;
  blob?: Uint8Array;
  signal: AbortSignal | undefined;
  usage?: { messages: number; bytes: number } | undefined;
}

/** A MemoryKeyProvider that counts calls, can fail on demand and can hold answers. */
export class CountingProvider implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  readonly calls: ProviderCall[] = [];
  /** Errors to throw on the next calls, in order. */
  failures: unknown[] = [];
  /** When set, calls wait for this promise before answering. */
  gate: Promise<void> | undefined;
  /** Every key returned, to check zeroization. */
  readonly returned: DataKey[] = [];

  get creates(): number {
    return this.calls.filter((c) => c.kind === 'create').length;
  }

  get decrypts(): number {
    return this.calls.filter((c) => c.kind === 'decrypt').length;
  }

  async createDataKey(context: KeyContext, options: CreateDataKeyOptions = {}): Promise<DataKey> {
    this.calls.push({ kind: 'create', context, signal: options.signal, usage: options.usage });
    return this.#answer(options.signal, () => this.inner.createDataKey(context));
  }

  async decryptDataKey(blob: Uint8Array, options: KeyRequestOptions = {}): Promise<DataKey> {
    this.calls.push({ kind: 'decrypt', blob, signal: options.signal });
    return this.#answer(options.signal, () => this.inner.decryptDataKey(blob));
  }

  async #answer(signal: AbortSignal | undefined, f: () => Promise<DataKey>): Promise<DataKey> {
    const failure = this.failures.shift();
    if (this.gate !== undefined) {
      const gate = this.gate;
      await new Promise<void>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        gate.then(resolve, reject);
      });
    }
    if (failure !== undefined) throw failure;
    const dk = await f();
    this.returned.push(dk);
    return dk;
  }
}

/** A gate: `open()` releases every call waiting on `promise`. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** An error shaped like an HTTP error with a status. */
export function httpError(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

/** Lets every pending promise callback run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}
