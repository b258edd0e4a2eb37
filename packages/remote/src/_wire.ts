/**
 * Between the camelCase types of `types.ts` and the snake_case JSON of the Vault v1 API
 * (`workos-vault-openapi.yaml`, components/schemas).
 *
 * Responses: every field the spec marks required is checked, so a server that sends something
 * else fails with one clear `INVALID_RESPONSE` error instead of an `undefined` surfacing far from
 * the call; optional fields get the SDK's defaults. A data key is decoded into memory of its
 * own and the decoder's copy wiped. Requests: the list options become the spec's query names.
 * @module
 */
import {
  aint,
  aobject,
  asignal,
  astring,
  atext,
  type DataKey,
  decodeBase64,
  type KeyContext,
  kindOf,
  makeDataKey,
} from '@vault-envelope/core';
import { awellFormed } from './_args.js';
import { VaultError } from './errors.js';
import {
  type Actor,
  type ListMetadata,
  type ListObjectsOptions,
  MAX_PAGE_SIZE,
  type ObjectList,
  type ObjectMetadata,
  type ObjectSummary,
  type ObjectVersion,
  type ObjectWithoutValue,
  type VaultObject,
} from './types.js';

const DATA_KEY_LENGTH = 32;

/** Where a response came from, for the error when it is malformed. */
export interface Origin {
  method: string;
  path: string;
  status: number;
  requestId: string | undefined;
}

type Json = Record<string, unknown>;

/** Reads the fields of one response body; each getter throws `INVALID_RESPONSE` on a bad field. */
export class WireReader {
  readonly #origin: Origin;

  /** @param origin - The call the body answers. */
  constructor(origin: Origin) {
    this.#origin = origin;
  }

  /**
   * Fails the call: the response did not have the documented shape.
   * @param what - Which field was wrong (never its value).
   * @returns Never.
   * @throws VaultError with code `INVALID_RESPONSE`.
   */
  fail(what: string): never {
    throw new VaultError(`Vault sent an unexpected response (${what})`, 'INVALID_RESPONSE', this.#origin);
  }

  /** The body as an object. */
  object(value: unknown, title: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(`${title} is not an object`);
    return value as Json;
  }

  /** A required string field. */
  string(o: Json, key: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${key} is not a string`);
    return v;
  }

  /** A string or null/missing field. */
  nullableString(o: Json, key: string): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(`${key} is not a string`);
    return v;
  }

  /** A required date-time field. */
  date(o: Json, key: string): Date {
    const d = new Date(this.string(o, key));
    if (Number.isNaN(d.getTime())) this.fail(`${key} is not a date`);
    return d;
  }

  /** A date-time or null/missing field. */
  nullableDate(o: Json, key: string): Date | null {
    const s = this.nullableString(o, key);
    if (s === null) return null;
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) this.fail(`${key} is not a date`);
    return d;
  }

  /** A map of strings (a key context). */
  context(o: Json, key: string): KeyContext {
    const v = o[key];
    if (v === undefined || v === null) return Object.freeze({});
    const m = this.object(v, key);
    for (const name of Object.keys(m))
      if (typeof m[name] !== 'string') this.fail(`${key} has a non-string value`);
    return Object.freeze({ ...(m as Record<string, string>) });
  }

  /** An array field. */
  array(o: Json, key: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(`${key} is not an array`);
    return v;
  }

  /** `Actor`. */
  actor(value: unknown): Actor {
    const o = this.object(value, 'updated_by');
    return { id: this.string(o, 'id'), name: typeof o['name'] === 'string' ? o['name'] : '' };
  }

  /** `ObjectMetadata`. */
  metadata(value: unknown): ObjectMetadata {
    const o = this.object(value, 'metadata');
    return {
      id: this.string(o, 'id'),
      environmentId: this.string(o, 'environment_id'),
      keyId: this.string(o, 'key_id'),
      context: this.context(o, 'context'),
      updatedAt: this.date(o, 'updated_at'),
      updatedBy: this.actor(o['updated_by']),
      versionId: this.nullableString(o, 'version_id'),
    };
  }

  /**
   * The metadata a create returns. The spec says `ObjectMetadata`; a body shaped like
   * `{id, name, metadata}` is accepted too, since "an object with its metadata" is how the
   * other object routes answer.
   */
  createdMetadata(value: unknown): ObjectMetadata {
    const o = this.object(value, 'body');
    if (typeof o['metadata'] === 'object' && o['metadata'] !== null && o['environment_id'] === undefined) {
      return this.metadata(o['metadata']);
    }
    return this.metadata(o);
  }

  /** `Object`. */
  vaultObject(value: unknown): VaultObject {
    const o = this.object(value, 'body');
    return {
      id: this.string(o, 'id'),
      name: this.string(o, 'name'),
      value: this.string(o, 'value'),
      metadata: this.metadata(o['metadata']),
    };
  }

  /** `ObjectWithoutValue`. */
  objectWithoutValue(value: unknown): ObjectWithoutValue {
    const o = this.object(value, 'body');
    return { id: this.string(o, 'id'), name: this.string(o, 'name'), metadata: this.metadata(o['metadata']) };
  }

  /** `ListMetadata` (missing means no further pages). */
  listMetadata(value: unknown): ListMetadata {
    if (value === undefined || value === null) return { before: null, after: null };
    const o = this.object(value, 'list_metadata');
    return { before: this.nullableString(o, 'before'), after: this.nullableString(o, 'after') };
  }

  /** `ObjectListResponse`. */
  objectList(value: unknown): ObjectList {
    const o = this.object(value, 'body');
    const data = this.array(o, 'data').map((item): ObjectSummary => {
      const s = this.object(item, 'data entry');
      return {
        id: this.string(s, 'id'),
        name: this.string(s, 'name'),
        updatedAt: this.nullableDate(s, 'updated_at'),
      };
    });
    return { data, listMetadata: this.listMetadata(o['list_metadata']) };
  }

  /**
   * A DataKey from a data-key, decrypt or rekey answer (`id`, `data_key`, `encrypted_keys`,
   * optional `context`).
   * @param value - The response body.
   * @param context - The context asked for, reported when the server does not say.
   * @param blob - For decrypt: the blob sent, kept (as a copy) instead of `encrypted_keys`.
   * @returns A key in memory of its own, owned by the caller.
   */
  dataKey(value: unknown, context: KeyContext, blob?: Uint8Array): DataKey {
    const o = this.object(value, 'body');
    const id = this.string(o, 'id');
    const keyText = this.string(o, 'data_key');
    let encryptedKeys: Uint8Array;
    if (blob === undefined) {
      try {
        encryptedKeys = decodeBase64(this.string(o, 'encrypted_keys'), 'encrypted_keys');
      } catch (e) {
        if (VaultError.is(e)) throw e;
        this.fail('encrypted_keys is not base64');
      }
      if (encryptedKeys.length === 0) this.fail('encrypted_keys is empty');
    } else {
      encryptedKeys = new Uint8Array(blob); // a copy even of a Buffer (whose slice() is a view)
    }
    let decoded: Uint8Array;
    try {
      decoded = decodeBase64(keyText, 'data_key');
    } catch {
      this.fail('data_key is not base64');
    }
    if (decoded.length !== DATA_KEY_LENGTH) {
      decoded.fill(0);
      this.fail(`data_key is not ${DATA_KEY_LENGTH} bytes`);
    }
    // The decoder may hand back a view into a pooled buffer shared with other allocations; the
    // caller gets a key in memory of its own, and the pooled bytes are wiped.
    const key = new Uint8Array(DATA_KEY_LENGTH);
    key.set(decoded);
    decoded.fill(0);
    const reported = o['context'] === undefined ? context : this.context(o, 'context');
    return makeDataKey({ id, key, encryptedKeys, context: reported });
  }

  /** `VersionListResponse`, entries only (as the SDK returns them). */
  versions(value: unknown): ObjectVersion[] {
    const o = this.object(value, 'body');
    return this.array(o, 'data').map((item): ObjectVersion => {
      const v = this.object(item, 'data entry');
      const size = v['size'];
      const current = v['current_version'];
      return {
        id: this.string(v, 'id'),
        createdAt: this.date(v, 'created_at'),
        currentVersion: current === true,
        size: typeof size === 'number' ? size : 0,
        etag: typeof v['etag'] === 'string' ? v['etag'] : '',
      };
    });
  }
}

/**
 * Checks list options and builds the query with the spec's names; absent options are left out.
 * @param options - The options of `listObjects` or `objects`.
 * @returns The query parameters (`undefined` ones are not sent).
 * @throws TypeError for a wrong type, a cursor that is not text or a `search` that is not
 *   well-formed; RangeError for a `limit` outside 1..100, an empty cursor,
 *   an unknown `order` or an unparseable `updatedAfter`.
 */
export function listQuery(options: unknown): Record<string, string | undefined> {
  const o = aobject(options, 'listObjects options') as ListObjectsOptions;
  asignal(o.signal, 'options.signal');
  const limit = o.limit === undefined ? undefined : aint(o.limit, 1, MAX_PAGE_SIZE, 'limit');
  const before = o.before === undefined ? undefined : atext(o.before, 'before', 1);
  const after = o.after === undefined ? undefined : atext(o.after, 'after', 1);
  if (o.order !== undefined && astring(o.order, 'order') !== 'asc' && o.order !== 'desc') {
    throw new RangeError("order must be 'asc' or 'desc', got another string");
  }
  const search = o.search === undefined ? undefined : awellFormed(o.search, 'search');
  let updatedAfter: string | undefined;
  if (o.updatedAfter !== undefined) {
    const d: unknown = o.updatedAfter;
    if (!(d instanceof Date) && typeof d !== 'string') {
      throw new TypeError(`updatedAfter must be a Date or a string, got ${kindOf(d)}`);
    }
    const t = d instanceof Date ? d.getTime() : Date.parse(d);
    if (Number.isNaN(t)) {
      throw new RangeError(
        `updatedAfter must be a valid date, got ${d instanceof Date ? 'an invalid Date' : 'a string that is not a date'}`,
      );
    }
    updatedAfter = new Date(t).toISOString();
  }
  return {
    limit: limit === undefined ? undefined : String(limit),
    before,
    after,
    order: o.order,
    search,
    updatedAfter,
  };
}
