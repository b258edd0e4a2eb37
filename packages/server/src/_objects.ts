/**
 * The object store: named values, encrypted at rest with `@vault-envelope/core`'s `Envelope`
 * under the object's key context (a fresh data key per version, AAD bound to the object id), with
 * every version kept until the object is deleted. Every write is one SQLite transaction; checks of
 * `version_check` happen inside the transaction that writes, so concurrent writers never lose an
 * update (better-sqlite3 is synchronous: nothing interleaves inside a transaction). Writing
 * transactions begin `IMMEDIATE`: they take the write lock before their first read, so a writer
 * in another process on the same file makes them wait (`busy_timeout`), where a deferred
 * transaction that read first would fail with `SQLITE_BUSY` when it came to write.
 * @module
 */
import { Envelope, isText, type KeyContext, parseCiphertext } from '@vault-envelope/core';
import { parseBlob } from './_blob.js';
import { md5Hex, uuid } from './_crypto.js';
import type { Db } from './_db.js';
import { HttpError } from './_http-error.js';
import type { Keyring } from './_keyring.js';
import {
  type Actor,
  FROM_OBJECTS,
  OBJECT_COLUMNS,
  type ObjectRecord,
  type ObjectRow,
  toRecord,
  toVersion,
  type VersionRecord,
  type VersionRow,
} from './_records.js';

/** Parameters of {@link ObjectStore.list} (already validated). */
export interface ListQuery {
  limit: number;
  order: 'asc' | 'desc';
  before?: string | undefined;
  after?: string | undefined;
  search?: string | undefined;
  updatedAfter?: string | undefined;
}

/** A page of objects. */
export interface ListPage {
  items: ObjectRecord[];
  before: string | null;
  after: string | null;
}

function objectAad(id: string): string {
  return `vault-envelope-server/object/${id}`;
}

function notFound(): HttpError {
  return new HttpError(404, 'Object not found');
}

function stale(): HttpError {
  return new HttpError(409, 'Version check failed: the object has a newer version');
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Stores and reads objects. */
export class ObjectStore {
  readonly #db: Db;
  readonly #envelope: Envelope;
  readonly #byId;
  readonly #byName;
  readonly #seqOf;
  readonly #tombstoneSeq;
  readonly #insertObject;
  readonly #insertVersion;
  readonly #updateObject;
  readonly #deleteObject;
  readonly #insertTombstone;
  readonly #versionsOf;
  readonly #versionByNumber;
  readonly #versionById;
  readonly #listStatements = new Map<string, ReturnType<Db['prepare']>>();
  readonly #now: () => number;
  /** The latest time handed out, in ms. */
  #last = 0;

  /**
   * @param db - The open database.
   * @param keyring - Issues the data keys that encrypt values.
   * @param now - The clock of creation and update times.
   */
  constructor(db: Db, keyring: Keyring, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#envelope = new Envelope({ keys: keyring, backend: 'fast' });
    this.#byId = db.prepare(`SELECT ${OBJECT_COLUMNS} ${FROM_OBJECTS} WHERE o.id = ?`);
    this.#byName = db.prepare(`SELECT ${OBJECT_COLUMNS} ${FROM_OBJECTS} WHERE o.name = ?`);
    this.#seqOf = db.prepare('SELECT seq FROM objects WHERE id = ?').pluck();
    this.#tombstoneSeq = db.prepare('SELECT seq FROM tombstones WHERE id = ?').pluck();
    this.#insertObject = db.prepare(
      'INSERT INTO objects (id, name, context, current_version, version_count, created_at, updated_at, ' +
        'updated_by_id, updated_by_name) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)',
    );
    this.#insertVersion = db.prepare(
      'INSERT INTO versions (id, object_seq, number, key_id, ciphertext, size, etag, created_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#updateObject = db.prepare(
      'UPDATE objects SET current_version = ?, version_count = ?, updated_at = ?, updated_by_id = ?, ' +
        'updated_by_name = ? WHERE seq = ?',
    );
    this.#deleteObject = db.prepare('DELETE FROM objects WHERE seq = ?');
    this.#insertTombstone = db.prepare('INSERT OR REPLACE INTO tombstones (id, seq) VALUES (?, ?)');
    this.#versionsOf = db.prepare(
      'SELECT id, number, key_id, size, etag, created_at FROM versions WHERE object_seq = ? ORDER BY number DESC',
    );
    this.#versionByNumber = db.prepare(
      'SELECT id, number, key_id, ciphertext, size, etag, created_at FROM versions WHERE object_seq = ? AND number = ?',
    );
    this.#versionById = db.prepare(
      'SELECT id, number, key_id, ciphertext, size, etag, created_at FROM versions WHERE id = ?',
    );
  }

  /**
   * Milliseconds-resolution ISO time that never goes backwards for this store, even when the
   * clock does (an NTP step): `updatedAfter` lists rely on it, and no version is dated before
   * the one it replaces.
   */
  #timestamp(): string {
    const t = Math.max(this.#now(), this.#last);
    this.#last = t;
    return new Date(t).toISOString();
  }

  async #encrypt(
    objectId: string,
    value: string,
    context: KeyContext,
  ): Promise<{ ciphertext: Uint8Array; keyId: string; size: number; etag: string }> {
    const ciphertext = await this.#envelope.encryptToBytes(value, { context, aad: objectAad(objectId) });
    const blob = parseBlob(parseCiphertext(ciphertext, 'A').encryptedKeys);
    // The etag hashes the stored ciphertext, never the plaintext: a hash of a low-entropy secret
    // on disk would be a way to guess it.
    return {
      ciphertext,
      keyId: blob!.id,
      size: Buffer.byteLength(value, 'utf8'),
      etag: md5Hex(ciphertext),
    };
  }

  async #decrypt(objectId: string, ciphertext: Uint8Array): Promise<string> {
    return this.#envelope.decryptToString(ciphertext, { aad: objectAad(objectId), format: 'A' });
  }

  /**
   * Creates an object with its first version.
   * @throws HttpError 409 when the name is taken.
   */
  async create(name: string, value: string, context: KeyContext, actor: Actor): Promise<ObjectRecord> {
    if (this.#byName.get(name) !== undefined)
      throw new HttpError(409, 'An object with this name already exists');
    const id = uuid();
    const versionId = uuid();
    const sealed = await this.#encrypt(id, value, context);
    const at = this.#timestamp();
    const contextJson = JSON.stringify(Object.entries(context));
    try {
      this.#db
        .transaction(() => {
          const { lastInsertRowid } = this.#insertObject.run(
            id,
            name,
            contextJson,
            versionId,
            at,
            at,
            actor.id,
            actor.name,
          );
          this.#insertVersion.run(
            versionId,
            lastInsertRowid,
            1,
            sealed.keyId,
            sealed.ciphertext,
            sealed.size,
            sealed.etag,
            at,
          );
        })
        .immediate();
    } catch (e) {
      if (isUniqueViolation(e)) throw new HttpError(409, 'An object with this name already exists');
      throw e;
    }
    return this.describe(id);
  }

  /** An object by id, without its value. @throws HttpError 404. */
  describe(id: string): ObjectRecord {
    const row = this.#byId.get(id) as ObjectRow | undefined;
    if (row === undefined) throw notFound();
    return toRecord(row);
  }

  /** An object by name, without its value. @throws HttpError 404. */
  describeByName(name: string): ObjectRecord {
    const row = this.#byName.get(name) as ObjectRow | undefined;
    if (row === undefined) throw notFound();
    return toRecord(row);
  }

  /** The current value of an object. @throws HttpError 404 (also when it is deleted meanwhile). */
  async value(record: ObjectRecord): Promise<string> {
    const v = this.#versionById.get(record.versionId) as VersionRow | undefined;
    if (v === undefined) throw notFound();
    return this.#decrypt(record.id, v.ciphertext);
  }

  /**
   * Stores a new version. With `versionCheck` (a version id), only when it is still the current one.
   * @throws HttpError 404 when the object does not exist; 409 when `versionCheck` is stale.
   */
  async update(
    id: string,
    value: string,
    versionCheck: string | null | undefined,
    actor: Actor,
  ): Promise<ObjectRecord> {
    const before = this.describe(id);
    if (typeof versionCheck === 'string' && versionCheck !== before.versionId) throw stale();
    // A context stored before the text rules held may carry a NUL or a lone surrogate; no key can
    // be created under it any more, and guessing which key it meant would be worse than refusing.
    for (const [name, v] of Object.entries(before.context)) {
      if (!isText(name) || !isText(v)) {
        throw new HttpError(
          409,
          'The key context stored with this object breaks the text rules (a control character or a lone surrogate): create a new object to store a new value',
        );
      }
    }
    const sealed = await this.#encrypt(id, value, before.context);
    const versionId = uuid();
    const at = this.#timestamp();
    this.#db
      .transaction(() => {
        // Checked again inside the writing transaction: another writer may have won meanwhile.
        const current = this.#byId.get(id) as ObjectRow | undefined;
        if (current === undefined) throw notFound();
        if (typeof versionCheck === 'string' && versionCheck !== current.current_version) throw stale();
        const number = current.version_count + 1;
        this.#insertVersion.run(
          versionId,
          current.seq,
          number,
          sealed.keyId,
          sealed.ciphertext,
          sealed.size,
          sealed.etag,
          at,
        );
        this.#updateObject.run(versionId, number, at, actor.id, actor.name, current.seq);
      })
      .immediate();
    return this.describe(id);
  }

  /**
   * Deletes an object and all its versions. With `versionCheck`, only when it is current.
   * @returns The deleted object's name.
   * @throws HttpError 404 or 409.
   */
  delete(id: string, versionCheck: string | undefined): string {
    return this.#db
      .transaction(() => {
        const current = this.#byId.get(id) as ObjectRow | undefined;
        if (current === undefined) throw notFound();
        if (versionCheck !== undefined && versionCheck !== current.current_version) throw stale();
        // Keeps list cursors that point at this object usable after it is gone.
        this.#insertTombstone.run(current.id, current.seq);
        this.#deleteObject.run(current.seq);
        return current.name;
      })
      .immediate();
  }

  /** Every version of an object, newest first. @throws HttpError 404. */
  versions(id: string): VersionRecord[] {
    const record = this.describe(id);
    const rows = this.#versionsOf.all(record.seq) as Omit<VersionRow, 'ciphertext'>[];
    return rows.map((r) => toVersion(r, record.versionId));
  }

  /** One version of an object with its value. @throws HttpError 404. */
  async version(id: string, number: number): Promise<{ version: VersionRecord; value: string }> {
    const record = this.describe(id);
    const r = this.#versionByNumber.get(record.seq, number) as VersionRow | undefined;
    if (r === undefined) throw new HttpError(404, 'Version not found');
    const value = await this.#decrypt(record.id, r.ciphertext);
    return { value, version: toVersion(r, record.versionId) };
  }

  #cursorSeq(cursor: string): number {
    const seq = (this.#seqOf.get(cursor) ?? this.#tombstoneSeq.get(cursor)) as number | undefined;
    if (seq === undefined) throw new HttpError(422, 'Unknown pagination cursor');
    return seq;
  }

  /** A page of objects, with cursors to the pages before and after it. */
  list(q: ListQuery): ListPage {
    const backwards = q.before !== undefined;
    const cursor = q.before ?? q.after;
    // Walking towards the previous page reverses the scan; the page is flipped back below.
    const ascending = (q.order === 'asc') !== backwards;
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (cursor !== undefined) {
      where.push(ascending ? 'o.seq > ?' : 'o.seq < ?');
      args.push(this.#cursorSeq(cursor));
    }
    if (q.search !== undefined && q.search !== '') {
      where.push('instr(lower(o.name), lower(?)) > 0');
      args.push(q.search);
    }
    if (q.updatedAfter !== undefined) {
      where.push('o.updated_at > ?');
      args.push(q.updatedAfter);
    }
    const sql =
      `SELECT ${OBJECT_COLUMNS} ${FROM_OBJECTS}` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY o.seq ${ascending ? 'ASC' : 'DESC'} LIMIT ?`;
    let stmt = this.#listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#listStatements.set(sql, stmt);
    }
    args.push(q.limit + 1);
    const rows = stmt.all(args) as ObjectRow[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    if (backwards) rows.reverse();
    const items = rows.map(toRecord);
    const first = items[0]?.id ?? null;
    const last = items.at(-1)?.id ?? null;
    if (backwards) return { items, before: more ? first : null, after: last };
    return { items, before: cursor !== undefined ? first : null, after: more ? last : null };
  }
}
