/**
 * A map keyed by a key context, for the encrypt side's hot path: the same value for any key
 * order, different values for different contexts.
 *
 * Most contexts have one entry (`{ organization_id }`); those are looked up in two nested maps,
 * name then value, which hashes two short strings that V8 often has already hashed and allocates
 * nothing. Other contexts are keyed by `canonicalContext` from core (sorted JSON), which costs an
 * allocation and a serialisation per call (several hundred ns in our measurements).
 * @module
 */
import { canonicalContext, type KeyContext } from '@vault-envelope/core';

/** Values keyed by key context. */
export class ContextMap<T> {
  readonly #single = new Map<string, Map<string, T>>();
  readonly #canonical = new Map<string, T>();

  /** The value stored for `context`, if any. A context with a non-string value finds nothing. */
  get(context: KeyContext): T | undefined {
    const names = Object.keys(context);
    if (names.length === 1) {
      const name = names[0]!;
      const value = context[name];
      return typeof value === 'string' ? this.#single.get(name)?.get(value) : undefined;
    }
    return this.#canonical.get(canonicalContext(context));
  }

  /** Stores `value` for `context` (a valid key context), replacing what was there. */
  set(context: KeyContext, value: T): void {
    const names = Object.keys(context);
    if (names.length === 1) {
      const name = names[0]!;
      let inner = this.#single.get(name);
      if (inner === undefined) {
        inner = new Map();
        this.#single.set(name, inner);
      }
      inner.set(context[name]!, value);
    } else {
      this.#canonical.set(canonicalContext(context), value);
    }
  }

  /** Removes the value for `context` when it is `value` (so a newer value is never removed). */
  deleteIf(context: KeyContext, value: T): void {
    const names = Object.keys(context);
    if (names.length === 1) {
      const name = names[0]!;
      const inner = this.#single.get(name);
      if (inner === undefined || inner.get(context[name]!) !== value) return;
      inner.delete(context[name]!);
      if (inner.size === 0) this.#single.delete(name);
    } else {
      const key = canonicalContext(context);
      if (this.#canonical.get(key) === value) this.#canonical.delete(key);
    }
  }

  /** Removes everything. */
  clear(): void {
    this.#single.clear();
    this.#canonical.clear();
  }
}
