/**
 * The shapes the client returns and takes, in camelCase with dates as `Date`, and the limits Vault
 * puts on them (name length, page size): the TypeScript side
 * of the snake_case wire format of the WorkOS Vault v1 API (`workos-vault-openapi.yaml`). Names
 * and shapes follow the official `@workos-inc/node` SDK's `workos.vault`, so code moves over with
 * a small diff.
 * @module
 */
import type { KeyContext } from '@vault-envelope/core';

/** Longest object name Vault accepts (names are also text: no control characters, not `.` or `..`). */
export const MAX_OBJECT_NAME_LENGTH = 200;
/** Largest page `listObjects` accepts. */
export const MAX_PAGE_SIZE = 100;

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call (all attempts and waits); the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Who last changed an object. */
export interface Actor {
  /** The user or API key id. */
  id: string;
  /** Its display name. */
  name: string;
}

/** Metadata of a stored object (`ObjectMetadata` on the wire). */
export interface ObjectMetadata {
  /** The object's id. */
  id: string;
  /** The environment the object belongs to. */
  environmentId: string;
  /** The id of the key that encrypts the current version. */
  keyId: string;
  /** The key context given at creation (kept by every update). */
  context: KeyContext;
  /** When the object was last changed. */
  updatedAt: Date;
  /** Who last changed it. */
  updatedBy: Actor;
  /** The current version's id: pass it as `versionCheck` for optimistic locking. */
  versionId: string | null;
}

/** An object with its decrypted value. */
export interface VaultObject {
  /** The object's id. */
  id: string;
  /** Its unique name. */
  name: string;
  /** The decrypted value. Secret. */
  value: string;
  /** Its metadata. */
  metadata: ObjectMetadata;
}

/** An object without its value (`describeObject`, `updateObject`). */
export interface ObjectWithoutValue {
  /** The object's id. */
  id: string;
  /** Its unique name. */
  name: string;
  /** Its metadata. */
  metadata: ObjectMetadata;
}

/** One entry of an object list. */
export interface ObjectSummary {
  /** The object's id. */
  id: string;
  /** Its unique name. */
  name: string;
  /** When it last changed, if the server said. */
  updatedAt: Date | null;
}

/** One version of an object. */
export interface ObjectVersion {
  /** The version's id (what `versionCheck` takes). */
  id: string;
  /** When this version was written. */
  createdAt: Date;
  /** Whether it is the current version. */
  currentVersion: boolean;
  /** Bytes of stored data. */
  size: number;
  /** Hash of the value. */
  etag: string;
}

/** Cursors of a list page. */
export interface ListMetadata {
  /** Cursor for the page before this one, or null at the start. */
  before: string | null;
  /** Cursor for the page after this one, or null at the end. */
  after: string | null;
}

/** One page of {@link ObjectSummary} entries. */
export interface ObjectList {
  /** The entries of this page. */
  data: ObjectSummary[];
  /** The cursors around it. */
  listMetadata: ListMetadata;
}

/** Arguments of `listObjects` and `objects`. Every field is optional. */
export interface ListObjectsOptions extends CallOptions {
  /** Page size, 1..100 (server default 10; `objects()` defaults to 100). */
  limit?: number | undefined;
  /** Cursor: entries before this one. */
  before?: string | undefined;
  /** Cursor: entries after this one. */
  after?: string | undefined;
  /** Sort direction. */
  order?: 'asc' | 'desc' | undefined;
  /** Filter by name, or structured search JSON. */
  search?: string | undefined;
  /** Only objects changed after this instant (sent as ISO-8601 `updatedAfter`). */
  updatedAfter?: Date | string | undefined;
}

/** Arguments of `createObject`. */
export interface CreateObjectOptions extends CallOptions {
  /** Unique name, 1..200 characters of text (no control characters), neither `.` nor `..`. */
  name: string;
  /** The value to encrypt and store: any well-formed string (newlines included). */
  value: string;
  /** Key context, sent as `key_context` (at most 10 string entries). */
  context: KeyContext;
}

/** Arguments of `updateObject`. */
export interface UpdateObjectOptions extends CallOptions {
  /** The object's id. */
  id: string;
  /** The new value. */
  value: string;
  /**
   * Fail with `ConflictError` unless this is the current version id. `metadata.versionId` may be
   * passed as it is: `null` or `undefined` sends no check.
   */
  versionCheck?: string | null | undefined;
}

/** Arguments of `deleteObject`. */
export interface DeleteObjectOptions extends CallOptions {
  /** The object's id. */
  id: string;
  /**
   * Fail with `ConflictError` unless this is the current version id. `metadata.versionId` may be
   * passed as it is: `null` or `undefined` sends no check.
   */
  versionCheck?: string | null | undefined;
}

/** Arguments of the calls that take only an object id. */
export interface ObjectIdOptions extends CallOptions {
  /** The object's id. */
  id: string;
}
