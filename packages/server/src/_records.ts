/**
 * What the object store hands out, values aside: {@link ObjectRecord} and {@link VersionRecord},
 * and how they are read from the rows of the `objects` and `versions` tables (one JOIN gives an
 * object with the key id of its current version).
 * @module
 */
import type { KeyContext } from '@vault-envelope/core';

/** Who made a change: an API key's public id and name. */
export interface Actor {
  id: string;
  name: string;
}

/** An object as stored, without its value. */
export interface ObjectRecord {
  seq: number;
  id: string;
  name: string;
  context: KeyContext;
  versionId: string;
  version: number;
  keyId: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: Actor;
}

/** One version of an object, without its value. */
export interface VersionRecord {
  id: string;
  number: number;
  keyId: string;
  size: number;
  etag: string;
  createdAt: string;
  current: boolean;
}

/** A row of `objects` joined with its current version's key id. */
export interface ObjectRow {
  seq: number;
  id: string;
  name: string;
  context: string;
  current_version: string;
  version_count: number;
  created_at: string;
  updated_at: string;
  updated_by_id: string;
  updated_by_name: string;
  key_id: string;
}

/** A row of `versions`. */
export interface VersionRow {
  id: string;
  number: number;
  key_id: string;
  ciphertext: Uint8Array;
  size: number;
  etag: string;
  created_at: string;
}

/** The columns of an {@link ObjectRow}. */
export const OBJECT_COLUMNS: string =
  'o.seq, o.id, o.name, o.context, o.current_version, o.version_count, o.created_at, o.updated_at, ' +
  'o.updated_by_id, o.updated_by_name, v.key_id';
/** The tables of an {@link ObjectRow}. */
export const FROM_OBJECTS: string = 'FROM objects o JOIN versions v ON v.id = o.current_version';

/** An object row as a record. */
export function toRecord(row: ObjectRow): ObjectRecord {
  return {
    seq: row.seq,
    id: row.id,
    name: row.name,
    context: Object.fromEntries(JSON.parse(row.context) as [string, string][]),
    versionId: row.current_version,
    version: row.version_count,
    keyId: row.key_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: { id: row.updated_by_id, name: row.updated_by_name },
  };
}

/** A version row as a record; `currentId` is the object's current version. */
export function toVersion(r: Omit<VersionRow, 'ciphertext'>, currentId: string): VersionRecord {
  return {
    id: r.id,
    number: r.number,
    keyId: r.key_id,
    size: r.size,
    etag: r.etag,
    createdAt: r.created_at,
    current: r.id === currentId,
  };
}
