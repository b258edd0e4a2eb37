/**
 * From the snake_case JSON of the Vault v1 API (`workos-vault-openapi.yaml`, components/schemas)
 * to the camelCase types of `types.ts`. Every field the spec marks required is checked, so a
 * server that sends something else fails with one clear `INVALID_RESPONSE` error instead of an
 * `undefined` surfacing far from the call. Optional fields get the SDK's defaults.
 * @module
 */
import type { KeyContext } from '@vault-envelope/core';
import { VaultError } from './errors.js';
import type {
  Actor,
  ListMetadata,
  ObjectList,
  ObjectMetadata,
  ObjectSummary,
  ObjectVersion,
  ObjectWithoutValue,
  VaultObject,
} from './types.js';

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
