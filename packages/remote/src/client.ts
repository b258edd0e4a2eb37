/**
 * {@link VaultClient}: the WorkOS Vault v1 API over HTTP (`workos-vault-openapi.yaml`). It is
 * core's {@link KeyProvider} (data keys in and out as bytes) and carries the whole object API
 * with the method names and argument shapes of the official SDK's `workos.vault`.
 *
 * Each method checks its arguments (TypeError, RangeError) before anything is sent, maps the
 * camelCase arguments to the snake_case wire format, runs the call through the transport
 * (retries, timeouts, typed errors) and maps the answer back, with dates as `Date`.
 * @module
 */
import {
  aobject,
  type CreateDataKeyOptions,
  type DataKey,
  encodeBase64,
  isText,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
} from '@vault-envelope/core';
import { awellFormed, blobOf, callSignal, keyContext, objectId, objectName, versionCheck } from './_args.js';
import { resolveOptions } from './_options.js';
import { type CallSpec, Transport } from './_transport.js';
import { listQuery, type Origin, WireReader } from './_wire.js';
import { VaultError } from './errors.js';
import type { VaultClientOptions } from './options.js';
import type {
  CallOptions,
  CreateObjectOptions,
  DeleteObjectOptions,
  ListObjectsOptions,
  ObjectIdOptions,
  ObjectList,
  ObjectMetadata,
  ObjectSummary,
  ObjectVersion,
  ObjectWithoutValue,
  UpdateObjectOptions,
  VaultObject,
} from './types.js';
import { MAX_PAGE_SIZE } from './types.js';

/** `WOS.EKM.`: how every key blob WorkOS Vault issues starts (then a version, `v1\0` today). */
const WORKOS_BLOB_HEADER = [0x57, 0x4f, 0x53, 0x2e, 0x45, 0x4b, 0x4d, 0x2e];
/** `VES.EKM.v1\0`: how every key blob of the local `@vault-envelope/server` starts. */
const LOCAL_BLOB_HEADER = [0x56, 0x45, 0x53, 0x2e, 0x45, 0x4b, 0x4d, 0x2e, 0x76, 0x31, 0x00];

/**
 * A WorkOS Vault client: data keys for `Envelope` (it is a {@link KeyProvider}) and the object
 * API. Retries 408/429/5xx and network failures with jittered exponential backoff, honours
 * `Retry-After` and `X-RateLimit-Reset`, sends one `Idempotency-Key` per call on every attempt,
 * keeps within the server's rate limit (a rate budget that follows its `X-RateLimit-*` headers),
 * bounds each attempt and each call in time, and fails with a typed {@link VaultError}.
 *
 * @example
 * ```ts
 * const vault = new VaultClient({ apiKey: process.env.WORKOS_API_KEY });
 * const envelope = new Envelope({ keys: vault });
 * const ct = await envelope.encrypt('123-45-6789', { context: { organization_id: 'org_1' } });
 *
 * await vault.createObject({ name: 'stripe-key', value: 'sk_live_...', context: { app: 'billing' } });
 * for await (const o of vault.objects({ order: 'asc' })) console.log(o.name);
 * ```
 */
export class VaultClient implements KeyProvider {
  readonly #transport: Transport;

  /**
   * @param options - `apiKey` (default `WORKOS_API_KEY`), `baseUrl` (default
   *   `https://api.workos.com`), `timeout`, `deadline`, `retry`, `fetch`, `userAgent`, `hooks`,
   *   `rateLimit` (default `{ requestsPerMinute: 6_000 }`).
   * @throws TypeError when no API key is given or found, or an option has the wrong type;
   *   RangeError when a duration or retry number is out of range.
   * @example
   * ```ts
   * const local = new VaultClient({ apiKey: 'sk_test', baseUrl: 'http://127.0.0.1:8787', retry: { limit: 5 } });
   * ```
   */
  constructor(options?: VaultClientOptions) {
    this.#transport = new Transport(resolveOptions(options));
  }

  /**
   * How the key blobs this client may be handed start, for `isCiphertext` and the Envelope's
   * checks: `WOS.EKM.` (WorkOS Vault) and `VES.EKM.v1\0` (the local `@vault-envelope/server`,
   * which a client may point at). A fresh copy on every read, so no holder can change another's.
   * @returns The headers, as bytes.
   * @example
   * ```ts
   * const [workos] = vault.keyBlobHeaders;
   * new TextDecoder().decode(workos); // 'WOS.EKM.'
   * ```
   */
  get keyBlobHeaders(): readonly Uint8Array[] {
    return Object.freeze([new Uint8Array(WORKOS_BLOB_HEADER), new Uint8Array(LOCAL_BLOB_HEADER)]);
  }

  // ------------------------------------------------------------------ keys

  /**
   * Asks Vault for a new data key for `context` (POST /vault/v1/keys/data-key).
   * @param context - Key context: at most 10 entries of string values.
   * @param options - `signal`; `usage` is ignored (a cache in front of this client uses it).
   * @returns The key, owned by the caller: zero `key` when done.
   * @throws TypeError/RangeError for a bad context; {@link VaultError} subclasses on failure.
   * @example
   * ```ts
   * const dk = await vault.createDataKey({ organization_id: 'org_1' });
   * ```
   */
  async createDataKey(context: KeyContext, options?: CreateDataKeyOptions): Promise<DataKey> {
    keyContext(context);
    const signal = callSignal(options);
    const path = '/vault/v1/keys/data-key';
    const result = await this.#call({ method: 'POST', path, body: { context }, signal });
    return result.read.dataKey(result.body, context);
  }

  /**
   * Asks Vault to unwrap an encrypted data key (POST /vault/v1/keys/decrypt).
   * @param encryptedKeys - The blob exactly as Vault issued it (from a ciphertext or a DataKey).
   * @param options - `signal`.
   * @returns The key, owned by the caller; `context` is what the server reported, or empty.
   * @throws TypeError/RangeError for non-bytes or empty bytes; {@link VaultError} subclasses.
   * @example
   * ```ts
   * const dk = await vault.decryptDataKey(inspect(ciphertext).encryptedKeys);
   * ```
   */
  async decryptDataKey(encryptedKeys: Uint8Array, options?: KeyRequestOptions): Promise<DataKey> {
    const blob = blobOf(encryptedKeys);
    const signal = callSignal(options);
    const path = '/vault/v1/keys/decrypt';
    const result = await this.#call({ method: 'POST', path, body: { keys: encodeBase64(blob) }, signal });
    return result.read.dataKey(result.body, {}, blob);
  }

  /**
   * Re-wraps a data key under a new key context without touching the data it encrypts
   * (POST /vault/v1/keys/rekey). Store the returned `encryptedKeys` in place of the old blob.
   * @param encryptedKeys - The current blob.
   * @param newContext - The context to wrap the key under.
   * @param options - `signal`.
   * @returns The same key bytes with a new blob and the new context.
   * @throws TypeError/RangeError for bad arguments; {@link VaultError} subclasses.
   * @example
   * ```ts
   * const moved = await vault.rekey(dk.encryptedKeys, { organization_id: 'org_2' });
   * ```
   */
  async rekey(encryptedKeys: Uint8Array, newContext: KeyContext, options?: CallOptions): Promise<DataKey> {
    const blob = blobOf(encryptedKeys);
    keyContext(newContext, 'new key context');
    const signal = callSignal(options);
    const body = { context: newContext, encrypted_keys: encodeBase64(blob) };
    const result = await this.#call({ method: 'POST', path: '/vault/v1/keys/rekey', body, signal });
    return result.read.dataKey(result.body, newContext);
  }

  /**
   * The {@link KeyProvider} form of {@link VaultClient.rekey}, which `Envelope.rekey` and
   * `Envelope.rekeyMany` call: the same request, returning only the new blob (the data key bytes
   * that Vault sends back are zeroed here, never handed out).
   * @param encryptedKeys - The current blob.
   * @param context - The context to wrap the key under.
   * @param options - `signal`.
   * @returns The new blob.
   * @throws TypeError/RangeError for bad arguments; {@link VaultError} subclasses.
   * @example
   * ```ts
   * const blob = await vault.rekeyDataKey(inspect(ciphertext).encryptedKeys, { organization_id: 'org_2' });
   * ```
   */
  async rekeyDataKey(
    encryptedKeys: Uint8Array,
    context: KeyContext,
    options?: KeyRequestOptions,
  ): Promise<Uint8Array> {
    const dk = await this.rekey(encryptedKeys, context, options);
    dk.key.fill(0);
    return dk.encryptedKeys;
  }

  // --------------------------------------------------------------- objects

  /**
   * Encrypts and stores a new object (POST /vault/v1/kv). Retries reuse one `Idempotency-Key`,
   * so a retried create does not create twice where the server honours the key.
   * @param options - `name` (1..200 characters, unique), `value`, `context` (sent as `key_context`), `signal`.
   * @returns The new object's metadata (its `id` and first `versionId`).
   * @throws TypeError/RangeError for bad arguments (a name or a context that is not text, a value
   *   that is not well-formed, a name `.` or `..`); {@link ConflictError} when the name is taken.
   * @example
   * ```ts
   * const meta = await vault.createObject({ name: 'stripe-key', value: 'sk_live_...', context: { app: 'billing' } });
   * ```
   */
  async createObject(options: CreateObjectOptions): Promise<ObjectMetadata> {
    const o = aobject(options, 'createObject options');
    const name = objectName(o['name']);
    const value = awellFormed(o['value'], 'value');
    const context = keyContext(o['context'], 'context');
    const body = { name, value, key_context: context };
    const result = await this.#call({
      method: 'POST',
      path: '/vault/v1/kv',
      body,
      signal: callSignal(options),
      secrets: [value],
    });
    return result.read.createdMetadata(result.body);
  }

  /**
   * Reads and decrypts an object by id (GET /vault/v1/kv/{id}).
   * @param options - `id`, `signal`.
   * @returns The object with its value.
   * @throws {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * const { value, metadata } = await vault.readObject({ id });
   * ```
   */
  async readObject(options: ObjectIdOptions): Promise<VaultObject> {
    const id = objectId(aobject(options, 'readObject options')['id']);
    const result = await this.#call({
      method: 'GET',
      path: `/vault/v1/kv/${encodeURIComponent(id)}`,
      signal: callSignal(options),
    });
    return result.read.vaultObject(result.body);
  }

  /**
   * Reads and decrypts an object by name (GET /vault/v1/kv/name/{name}).
   * @param name - The object's name, or `{ name, signal? }` (the official SDK takes both forms).
   * @param options - `signal`.
   * @returns The object with its value.
   * @throws TypeError for a name that is not 1..200 characters of text, or is `.` or `..`;
   *   {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * const stripe = await vault.readObjectByName('stripe-key');
   * ```
   */
  async readObjectByName(
    name: string | ({ name: string } & CallOptions),
    options?: CallOptions,
  ): Promise<VaultObject> {
    const asObject = typeof name === 'object' && name !== null;
    const n = objectName(asObject ? name.name : name);
    const signal = callSignal(options ?? (asObject ? name : undefined));
    const path = `/vault/v1/kv/name/${encodeURIComponent(n)}`;
    const result = await this.#call({ method: 'GET', path, signal });
    return result.read.vaultObject(result.body);
  }

  /**
   * Reads an object's metadata without decrypting it (GET /vault/v1/kv/{id}/metadata).
   * @param options - `id`, `signal`.
   * @returns Id, name and metadata.
   * @throws {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * const { metadata } = await vault.describeObject({ id });
   * ```
   */
  async describeObject(options: ObjectIdOptions): Promise<ObjectWithoutValue> {
    const id = objectId(aobject(options, 'describeObject options')['id']);
    const path = `/vault/v1/kv/${encodeURIComponent(id)}/metadata`;
    const result = await this.#call({ method: 'GET', path, signal: callSignal(options) });
    return result.read.objectWithoutValue(result.body);
  }

  /**
   * Replaces an object's value, keeping its key context (PUT /vault/v1/kv/{id}).
   * @param options - `id`, `value`, `versionCheck` (a version id, or `null`/`undefined` for no
   *   check: `metadata.versionId` may be passed as it is), `signal`.
   * @returns Id, name and the new metadata (with the new `versionId`).
   * @throws {@link ConflictError} when `versionCheck` is not the current version;
   *   {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * const { metadata } = await vault.describeObject({ id });
   * await vault.updateObject({ id, value: 'new', versionCheck: metadata.versionId });
   * ```
   */
  async updateObject(options: UpdateObjectOptions): Promise<ObjectWithoutValue> {
    const o = aobject(options, 'updateObject options');
    const id = objectId(o['id']);
    const value = awellFormed(o['value'], 'value');
    const check = versionCheck(o['versionCheck']);
    const body = check === undefined ? { value } : { value, version_check: check };
    const path = `/vault/v1/kv/${encodeURIComponent(id)}`;
    const signal = callSignal(options);
    const result = await this.#call({ method: 'PUT', path, body, signal, secrets: [value] });
    return result.read.objectWithoutValue(result.body);
  }

  /**
   * Deletes an object and all its versions (DELETE /vault/v1/kv/{id}).
   * @param options - `id`, `versionCheck` (sent as the `version_check` query when it is a
   *   version id; `null` or `undefined`: no check), `signal`.
   * @returns Nothing.
   * @throws {@link ConflictError} when `versionCheck` is not the current version;
   *   {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * await vault.deleteObject({ id });
   * ```
   */
  async deleteObject(options: DeleteObjectOptions): Promise<void> {
    const o = aobject(options, 'deleteObject options');
    const id = objectId(o['id']);
    const check = versionCheck(o['versionCheck']);
    const path = `/vault/v1/kv/${encodeURIComponent(id)}`;
    await this.#call({
      method: 'DELETE',
      path,
      query: { version_check: check },
      signal: callSignal(options),
    });
  }

  /**
   * Lists an object's versions (GET /vault/v1/kv/{id}/versions).
   * @param options - `id`, `signal`.
   * @returns The versions, as the server orders them.
   * @throws {@link NotFoundError} when there is no such object.
   * @example
   * ```ts
   * const current = (await vault.listObjectVersions({ id })).find((v) => v.currentVersion);
   * ```
   */
  async listObjectVersions(options: ObjectIdOptions): Promise<ObjectVersion[]> {
    const id = objectId(aobject(options, 'listObjectVersions options')['id']);
    const path = `/vault/v1/kv/${encodeURIComponent(id)}/versions`;
    const result = await this.#call({ method: 'GET', path, signal: callSignal(options) });
    return result.read.versions(result.body);
  }

  /**
   * Fetches one page of objects (GET /vault/v1/kv), with the spec's query names (`limit`,
   * `before`, `after`, `order`, `search`, `updatedAfter` as ISO-8601); absent options are not sent.
   * @param options - Filters, cursors and `signal`.
   * @returns `{ data, listMetadata }`: pass `listMetadata.after` as `after` for the next page.
   * @throws TypeError/RangeError for bad options (`limit` outside 1..100); {@link VaultError}s.
   * @example
   * ```ts
   * const page = await vault.listObjects({ limit: 50, order: 'asc' });
   * ```
   */
  async listObjects(options: ListObjectsOptions = {}): Promise<ObjectList> {
    const query = listQuery(options);
    const result = await this.#call({
      method: 'GET',
      path: '/vault/v1/kv',
      query,
      signal: callSignal(options),
    });
    return result.read.objectList(result.body);
  }

  /**
   * Iterates over every object, page after page, following `listMetadata.after` (or `before`
   * when only `before` is given). Options are checked at once, pages fetched lazily.
   * @param options - As {@link VaultClient.listObjects}; `limit` is the page size (default 100).
   * @returns An async iterator of object summaries.
   * @throws TypeError/RangeError for bad options (at once); {@link VaultError}s while iterating,
   *   including `INVALID_RESPONSE` when the server hands back a cursor it already gave.
   * @example
   * ```ts
   * for await (const o of vault.objects({ search: 'stripe' })) console.log(o.id, o.name);
   * ```
   */
  objects(options: ListObjectsOptions = {}): AsyncIterableIterator<ObjectSummary> {
    listQuery(options);
    const backwards = options.before !== undefined && options.after === undefined;
    const first: ListObjectsOptions = { ...options, limit: options.limit ?? MAX_PAGE_SIZE };
    return this.#pages(first, backwards);
  }

  async *#pages(first: ListObjectsOptions, backwards: boolean): AsyncIterableIterator<ObjectSummary> {
    const seen = new Set<string>();
    let options = first;
    for (;;) {
      const page = await this.listObjects(options);
      yield* page.data;
      const next = backwards ? page.listMetadata.before : page.listMetadata.after;
      if (next === null || page.data.length === 0) return;
      if (next === '' || !isText(next)) {
        // Sent back as given it would fail the cursor checks as if the caller had passed it.
        throw new VaultError('Vault sent a list cursor that is not text', 'INVALID_RESPONSE', {
          method: 'GET',
          path: '/vault/v1/kv',
        });
      }
      if (seen.has(next)) {
        throw new VaultError('Vault repeated a list cursor', 'INVALID_RESPONSE', {
          method: 'GET',
          path: '/vault/v1/kv',
        });
      }
      seen.add(next);
      const { before: _b, after: _a, ...rest } = options;
      options = backwards ? { ...rest, before: next } : { ...rest, after: next };
    }
  }

  // -------------------------------------------------------------- internal

  async #call(spec: CallSpec): Promise<{ body: unknown; read: WireReader }> {
    const r = await this.#transport.call(spec);
    const origin: Origin = { method: spec.method, path: spec.path, status: r.status, requestId: r.requestId };
    return { body: r.body, read: new WireReader(origin) };
  }
}
