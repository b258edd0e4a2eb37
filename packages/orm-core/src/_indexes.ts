/**
 * Per-tenant blind indexes, derived once and kept: `BlindIndex.forTenant` runs HKDF, which costs
 * more than the index value itself, and a page of rows or a batch insert asks for the same
 * tenant's index many times. The derived indexes hold keys, so the set is bounded (least
 * recently used tenants go first) and every index that leaves it is destroyed.
 * @module
 */
import { type BlindIndex, blindIndexCandidates } from '@vault-envelope/core';
import type { IndexModel } from './declaration.js';

/** How many tenants' derived indexes are kept. */
const CAPACITY = 1024;

/** The derived indexes of every blind-index column, per tenant. */
export class TenantIndexes {
  readonly #byTenant = new Map<string, Map<IndexModel, readonly BlindIndex[]>>();

  /**
   * The indexes of a column for a tenant, newest first: the declared ones for a column that is
   * not per tenant, else each keyed for `tenant`.
   */
  for(model: IndexModel, tenant: string | undefined): readonly BlindIndex[] {
    if (!model.perTenant || tenant === undefined) return model.indexes;
    let derived = this.#byTenant.get(tenant);
    if (derived === undefined) {
      derived = new Map();
      this.#byTenant.set(tenant, derived);
      if (this.#byTenant.size > CAPACITY) {
        const [oldest, indexes] = this.#byTenant.entries().next().value as [
          string,
          Map<IndexModel, readonly BlindIndex[]>,
        ];
        this.#byTenant.delete(oldest);
        for (const list of indexes.values()) for (const ix of list) ix.destroy();
      }
    } else {
      // Most recently used last.
      this.#byTenant.delete(tenant);
      this.#byTenant.set(tenant, derived);
    }
    let list = derived.get(model);
    if (list === undefined) {
      list = Object.freeze(model.indexes.map((ix) => ix.forTenant(tenant)));
      derived.set(model, list);
    }
    return list;
  }

  /** The value written into the index column for `value`: the newest index's. */
  write(model: IndexModel, tenant: string | undefined, value: string | Uint8Array): string {
    return this.for(model, tenant)[0]!.compute(value);
  }

  /** The values an equality search matches: one per index in use, without repeats. */
  candidates(model: IndexModel, tenant: string | undefined, value: string | Uint8Array): string[] {
    return blindIndexCandidates(this.for(model, tenant), value);
  }

  /** Destroys every derived index. */
  clear(): void {
    for (const derived of this.#byTenant.values()) {
      for (const list of derived.values()) for (const ix of list) ix.destroy();
    }
    this.#byTenant.clear();
  }
}
