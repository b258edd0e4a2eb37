/**
 * The seam every package meets at: key contexts, data keys and the {@link KeyProvider} interface.
 * `@vault-envelope/remote` implements KeyProvider over HTTP, `@vault-envelope/cache` wraps any
 * KeyProvider, and {@link Envelope} consumes one.
 * @module
 */
import { abytes, aobject, astring, copyBytes, isBytes } from './assert.js';
import { KeyDestroyedError } from './errors.js';

/**
 * A WorkOS Vault key context: string names to string values. Each entry selects a key-encryption
 * key; the data key is wrapped once under each. At most 10 entries, names up to 120 characters,
 * values up to 500.
 */
export type KeyContext = Readonly<Record<string, string>>;

/** Vault's limits on a key context. */
export const KEY_CONTEXT_LIMITS: {
  readonly maxEntries: 10;
  readonly maxNameLength: 120;
  readonly maxValueLength: 500;
} = Object.freeze({ maxEntries: 10, maxNameLength: 120, maxValueLength: 500 });

/**
 * Checks a key context against Vault's rules.
 * @param context - The context to check.
 * @param title - What it is, for messages.
 * @returns The same context.
 * @throws TypeError when it is not an object of strings; RangeError when it has more than 10
 *   entries, a name longer than 120 or a value longer than 500 characters, or an empty name.
 * @example
 * ```ts
 * validateKeyContext({ organization_id: 'org_1' });
 * ```
 */
export function validateKeyContext(context: unknown, title = 'key context'): KeyContext {
  const obj = aobject(context, title);
  const names = Object.keys(obj);
  if (names.length > KEY_CONTEXT_LIMITS.maxEntries) {
    throw new RangeError(
      `${title} has ${names.length} entries; at most ${KEY_CONTEXT_LIMITS.maxEntries} are allowed`,
    );
  }
  for (const name of names) {
    if (name.length === 0) throw new RangeError(`${title} has an empty name`);
    if (name.length > KEY_CONTEXT_LIMITS.maxNameLength) {
      throw new RangeError(`${title} name is longer than ${KEY_CONTEXT_LIMITS.maxNameLength} characters`);
    }
    const value = obj[name];
    if (typeof value !== 'string') throw new TypeError(`${title} value of "${name}" must be a string`);
    if (value.length > KEY_CONTEXT_LIMITS.maxValueLength) {
      throw new RangeError(
        `${title} value of "${name}" is longer than ${KEY_CONTEXT_LIMITS.maxValueLength} characters`,
      );
    }
  }
  return obj as KeyContext;
}

/**
 * A canonical string for a key context: the same for any key order, different for different
 * contexts. Used as a cache and grouping key. Does not validate; call {@link validateKeyContext} first.
 * @param context - A key context.
 * @returns JSON of the entries sorted by name.
 * @example
 * ```ts
 * canonicalContext({ b: '2', a: '1' }) === canonicalContext({ a: '1', b: '2' }); // true
 * ```
 */
export function canonicalContext(context: KeyContext): string {
  const names = Object.keys(context);
  if (names.length === 1) return JSON.stringify([[names[0], context[names[0]!]]]);
  names.sort();
  const entries: [string, string][] = new Array(names.length);
  for (let i = 0; i < names.length; i++) entries[i] = [names[i]!, context[names[i]!]!];
  return JSON.stringify(entries);
}

/**
 * A data key: the 32-byte AES key, its id, the blob that wraps it (`encrypted_keys`) and the key
 * context it was created for.
 *
 * Ownership: a DataKey that a {@link KeyProvider} returns belongs to the caller, who may zero
 * `key` when done. A provider that shares keys between callers returns a {@link SharedDataKey},
 * whose `key` is a fresh copy on every read.
 */
export interface DataKey {
  /** The key's id at the key service. */
  readonly id: string;
  /** The 32 key bytes. Secret. */
  readonly key: Uint8Array;
  /** The wrapped key as the key service issued it: opaque bytes, stored in every ciphertext. */
  readonly encryptedKeys: Uint8Array;
  /** The key context the key was created for (empty when the service did not say). */
  readonly context: KeyContext;
}

/** Options every KeyProvider call takes. */
export interface KeyRequestOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** How much a caller will encrypt under a data key it asks for; a caching provider counts it. */
export interface KeyUsage {
  /** Number of messages (GCM invocations). */
  messages: number;
  /** Total plaintext bytes. */
  bytes: number;
}

/** Options of {@link KeyProvider.createDataKey}. */
export interface CreateDataKeyOptions extends KeyRequestOptions {
  /** What the caller will encrypt under the key (default: one message of unknown size). */
  usage?: KeyUsage;
}

/**
 * A source of data keys: WorkOS Vault over HTTP (`VaultClient`), a cache in front of one
 * (`cachedKeyProvider`), or {@link MemoryKeyProvider} in tests.
 *
 * Contract: `createDataKey` returns a key for `context` whose `encryptedKeys`, given back to
 * `decryptDataKey`, yields the same key bytes. Both may reject with the provider's own errors,
 * which callers see unchanged.
 */
export interface KeyProvider {
  /**
   * Returns a data key for encrypting under `context`.
   * @param context - The key context.
   * @param options - `signal`; `usage` says how much will be encrypted under the key.
   */
  createDataKey(context: KeyContext, options?: CreateDataKeyOptions): Promise<DataKey>;
  /**
   * Unwraps a key blob taken from a ciphertext.
   * @param encryptedKeys - The blob, exactly as the key service issued it.
   * @param options - `signal`.
   */
  decryptDataKey(encryptedKeys: Uint8Array, options?: KeyRequestOptions): Promise<DataKey>;
  /**
   * Optional. Re-wraps the data key inside `encryptedKeys` under `context` (Vault's rekey) and
   * returns the new blob. The 32 key bytes stay the same, so every message body written under
   * the old blob stays valid with the new one; only the key-encryption keys that can unwrap it
   * change. `Envelope.rekey` and `Envelope.rekeyMany` need it.
   * @param encryptedKeys - The current blob, exactly as the key service issued it.
   * @param context - The key context to wrap the key under.
   * @param options - `signal`.
   * @returns The new blob.
   */
  rekeyDataKey?(
    encryptedKeys: Uint8Array,
    context: KeyContext,
    options?: KeyRequestOptions,
  ): Promise<Uint8Array>;
  /**
   * Optional. Headers (at least 6 bytes each) that every key blob this provider issues starts
   * with, for `isCiphertext` and layout detection. A wrapping provider (the cache) reports its
   * inner provider's. The Envelope reads them once, when it is created.
   */
  readonly keyBlobHeaders?: readonly Uint8Array[];
}

const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom');

function redactedView(dk: DataKey): object {
  return {
    id: dk.id,
    context: dk.context,
    encryptedKeys: `[${dk.encryptedKeys.length} bytes]`,
    key: '[redacted]',
  };
}

/**
 * Builds a {@link DataKey} whose `key` stays out of `JSON.stringify`, `util.inspect` and
 * `console.log` (it is a non-enumerable property). Takes ownership of the given buffers.
 * @param fields - `id`, `key` (32 bytes), `encryptedKeys` (non-empty), `context`.
 * @returns The data key.
 * @throws TypeError or RangeError on malformed fields.
 * @example
 * ```ts
 * const dk = makeDataKey({ id: 'k1', key: new Uint8Array(32), encryptedKeys: blob, context: {} });
 * JSON.stringify(dk); // no key bytes
 * ```
 */
export function makeDataKey(fields: {
  id: string;
  key: Uint8Array;
  encryptedKeys: Uint8Array;
  context?: KeyContext;
}): DataKey {
  astring(fields.id, 'data key id');
  abytes(fields.key, 32, 'data key');
  abytes(fields.encryptedKeys, undefined, 'encryptedKeys');
  if (fields.encryptedKeys.length === 0) throw new RangeError('encryptedKeys must not be empty');
  const dk = {
    id: fields.id,
    encryptedKeys: fields.encryptedKeys,
    context: Object.freeze({ ...(fields.context ?? {}) }),
  } as DataKey & Record<symbol | string, unknown>;
  Object.defineProperty(dk, 'key', { value: fields.key, enumerable: false, writable: false });
  Object.defineProperty(dk, 'toJSON', { value: () => redactedView(dk), enumerable: false });
  Object.defineProperty(dk, INSPECT, { value: () => redactedView(dk), enumerable: false });
  return dk;
}

/**
 * Checks that a value a provider returned is a well-formed data key.
 * @internal
 */
export function checkDataKey(dk: unknown): DataKey {
  const d = aobject(dk, 'data key from the key provider') as unknown as DataKey;
  astring(d.id, 'data key id');
  abytes(d.key, 32, 'data key');
  if (!isBytes(d.encryptedKeys) || d.encryptedKeys.length === 0) {
    throw new TypeError('encryptedKeys from the key provider must be non-empty bytes');
  }
  return d;
}

/** State a backend keeps for a key, with the backend that owns it. */
interface PreparedSlot {
  owner: object;
  state: { destroy(): void };
}

/**
 * A data key shared by many callers, as a cache hands it out: read-only from outside, and able to
 * remember prepared cipher state (an expanded key) so that callers skip that work on every use.
 *
 * - `key` and `encryptedKeys` return fresh copies, so no caller can corrupt the shared bytes.
 * - The owner calls {@link SharedDataKey.destroy} when it evicts the key: the bytes and all
 *   prepared state are zeroed, and later reads throw {@link KeyDestroyedError}.
 * - `JSON.stringify`, `util.inspect` and `console.log` never show the key.
 *
 * @example
 * ```ts
 * const shared = new SharedDataKey(await vault.createDataKey(ctx));
 * const copy = shared.key;   // a copy; zero it when done
 * shared.destroy();          // on eviction
 * ```
 */
export class SharedDataKey implements DataKey {
  readonly id: string;
  readonly context: KeyContext;
  readonly #key: Uint8Array;
  readonly #encryptedKeys: Uint8Array;
  #destroyed = false;
  #prepared: PreparedSlot[] = [];

  /**
   * Takes the bytes of `dataKey`: copies them and zeroes the original `key` (the caller handed
   * over ownership, per the {@link DataKey} contract).
   * @param dataKey - A data key from a provider.
   */
  constructor(dataKey: DataKey) {
    checkDataKey(dataKey);
    this.id = dataKey.id;
    this.context = Object.freeze({ ...(dataKey.context ?? {}) });
    this.#key = copyBytes(dataKey.key);
    this.#encryptedKeys = copyBytes(dataKey.encryptedKeys);
    dataKey.key.fill(0);
  }

  /** A fresh copy of the 32 key bytes. @throws KeyDestroyedError after `destroy()`. */
  get key(): Uint8Array {
    if (this.#destroyed) throw new KeyDestroyedError();
    return this.#key.slice();
  }

  /** A fresh copy of the wrapped key blob. */
  get encryptedKeys(): Uint8Array {
    return this.#encryptedKeys.slice();
  }

  /** Length of the wrapped key blob, without copying it. */
  get encryptedKeysLength(): number {
    return this.#encryptedKeys.length;
  }

  /** True once `destroy()` has run. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Copies the wrapped key blob into `out` at `offset` (no allocation).
   * @internal
   */
  copyEncryptedKeysInto(out: Uint8Array, offset: number): void {
    out.set(this.#encryptedKeys, offset);
  }

  /**
   * Tells whether `bytes` are exactly this key's wrapped blob, without copying it: what a
   * provider that holds shared keys checks in `decryptDataKey`.
   * @param bytes - A key blob, as taken from a ciphertext.
   * @returns true when it is byte for byte this key's `encryptedKeys`.
   * @example
   * ```ts
   * if (shared.wraps(encryptedKeys)) return shared;
   * ```
   */
  wraps(bytes: Uint8Array): boolean {
    const k = this.#encryptedKeys;
    if (k.length !== bytes.length) return false;
    for (let i = 0; i < k.length; i++) if (k[i] !== bytes[i]) return false;
    return true;
  }

  /**
   * Returns the state `owner` prepared for this key, preparing it on first use with `prepare`,
   * which receives the key bytes themselves: it must copy what it keeps and never modify them.
   * The state is destroyed with the key.
   * @internal
   * @throws KeyDestroyedError after `destroy()`.
   */
  prepared<T extends { destroy(): void }>(owner: object, prepare: (key: Uint8Array) => T): T {
    if (this.#destroyed) throw new KeyDestroyedError();
    const slots = this.#prepared;
    for (let i = 0; i < slots.length; i++) if (slots[i]!.owner === owner) return slots[i]!.state as T;
    const state = prepare(this.#key);
    slots.push({ owner, state });
    return state;
  }

  /** Zeroes the key and every prepared state. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#key.fill(0);
    for (const slot of this.#prepared) slot.state.destroy();
    this.#prepared = [];
  }

  /** JSON without the key. */
  toJSON(): object {
    return redactedView(this);
  }

  static {
    // `util.inspect` without the key. Defined here rather than as a `[INSPECT]()` method because
    // a computed member name cannot be declared in isolated declarations; non-enumerable either way.
    Object.defineProperty(SharedDataKey.prototype, INSPECT, {
      value(this: SharedDataKey): object {
        return redactedView(this);
      },
      writable: true,
      configurable: true,
    });
  }
}
