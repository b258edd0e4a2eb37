/**
 * Planning a batch: for each row read, what each listed value becomes under the job's mode, with
 * the key-service calls grouped (one per distinct key context, or per distinct key blob, within
 * the batch) and bounded in concurrency. Nothing here writes; the engine applies the plans with
 * compare-and-set updates.
 *
 * A failure that belongs to one value (a ciphertext that does not decrypt under its row's AAD, a
 * NULL in a template column) fails that row alone: it is reported and left as it is. A failure
 * of the key service itself (unreachable, refused credentials, rate limited past its retries)
 * fails the batch, which is then not committed: the job stops and resumes there.
 * @module
 */
import {
  type BlindIndex,
  canonicalContext,
  DecryptionError,
  type Envelope,
  encodeBase64,
  FormatError,
  inspect,
  type KeyContext,
  KeyProviderError,
} from '@vault-envelope/core';
import { VaultError } from '@vault-envelope/remote';
import {
  type FieldBinding,
  indexValue,
  isCiphertext,
  readAads,
  type TenantIndexes,
  writeAad,
} from './_fields.js';
import type { Limiter } from './_limit.js';
import { keyOf } from './_sql.js';
import type { Row, SqlValue } from './adapter.js';
import { type ContextTemplate, RowError, type Template } from './template.js';

/** What happened to one value. */
export type Outcome =
  | 'changed'
  | 'null'
  | 'encrypted'
  | 'plaintext'
  | 'ok'
  | 'legacy'
  | 'undecryptable'
  | 'unchanged'
  | 'mismatch';

/** The modes of a job. */
export type MigrationMode = 'encrypt' | 'rekey' | 'reencrypt' | 'reindex' | 'verify';

/** A blind index to write (reindex) or check (verify). */
export interface IndexSpec {
  column: string;
  into: string;
  index: BlindIndex;
  /** Key the index per row's tenant (`index.forTenant(tenant)`). */
  perTenant: boolean;
}

/** The plan for one row. */
export interface RowPlan {
  key: SqlValue[];
  row: Row;
  /** New values by column; empty when nothing changes. */
  set: Map<string, SqlValue>;
  /** One outcome per value examined. */
  outcomes: [column: string, outcome: Outcome][];
  /** Why the row was left as it is, when it failed. */
  failure: string | undefined;
}

/** What planning needs to know about the job. */
export interface Planner {
  mode: MigrationMode;
  envelope: Envelope;
  limiter: Limiter;
  binding: FieldBinding;
  key: readonly string[];
  idColumn: string;
  columns: readonly string[];
  context: ContextTemplate | undefined;
  tenant: Template | undefined;
  indexes: readonly IndexSpec[];
  /** The per-tenant indexes derived so far. */
  tenantIndexes: TenantIndexes;
  /** Count what would change without any key-service call that creates or moves keys. */
  dryRun: boolean;
  signal: AbortSignal | undefined;
}

/** Whether an error belongs to one value (it fails that row) rather than to the key service. */
function isValueError(e: unknown): boolean {
  return (
    DecryptionError.is(e) ||
    FormatError.is(e) ||
    KeyProviderError.is(e) ||
    (VaultError.is(e) &&
      (e.code === 'BAD_REQUEST' || e.code === 'NOT_FOUND' || e.code === 'UNPROCESSABLE_ENTITY'))
  );
}

function fail(plan: RowPlan, reason: string): void {
  plan.failure ??= reason;
  plan.set.clear();
}

const reasonOf = (e: unknown) =>
  DecryptionError.is(e)
    ? 'does not decrypt under its AAD'
    : e instanceof Error
      ? `${e.name}: ${e.message}`
      : 'unknown failure';

/** Groups items by a string id, keeping input order within a group. */
function groupBy<T>(items: readonly T[], id: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = id(it);
    let g = m.get(k);
    if (g === undefined) {
      g = [];
      m.set(k, g);
    }
    g.push(it);
  }
  return [...m.values()];
}

const blobId = (ciphertext: string | Uint8Array): string => encodeBase64(inspect(ciphertext).encryptedKeys);

/** A value to decrypt, and where its plaintext goes. */
interface DecryptTask {
  plan: RowPlan;
  column: string;
  ciphertext: string | Uint8Array;
  aads: string[];
  /** Receives the plaintext (zeroed after it returns) and which AAD opened it (0 = current). */
  done(plaintext: Uint8Array, which: number): void;
}

/** Decrypts tasks grouped by key blob, trying each task's AADs in order. */
async function decryptAll(p: Planner, tasks: DecryptTask[]): Promise<void> {
  const opts = p.signal === undefined ? {} : { signal: p.signal };
  await Promise.all(
    groupBy(tasks, (t) => blobId(t.ciphertext)).map((group) =>
      p.limiter.run(async () => {
        let pending = group;
        for (let which = 0; pending.length > 0; which++) {
          const round = pending.filter((t) => which < t.aads.length);
          pending = [];
          if (round.length === 0) break;
          const results = await p.envelope.decryptMany(
            round.map((t) => ({ ciphertext: t.ciphertext, aad: t.aads[which]! })),
            opts,
          );
          for (let i = 0; i < round.length; i++) {
            const t = round[i]!;
            const r = results[i]!;
            if (r.ok) {
              try {
                t.done(r.value, which);
              } finally {
                r.value.fill(0);
              }
            } else if (!isValueError(r.error)) {
              throw r.error;
            } else if (DecryptionError.is(r.error) && which + 1 < t.aads.length) {
              pending.push(t);
            } else {
              t.plan.outcomes.push([t.column, 'undecryptable']);
              fail(t.plan, `${t.column} ${reasonOf(r.error)}`);
            }
          }
        }
      }),
    ),
  );
}

/** A value to encrypt. */
interface EncryptTask {
  plan: RowPlan;
  column: string;
  plaintext: string | Uint8Array;
  context: KeyContext;
  /** The canonical form of `context`, computed once per row: the group id. */
  contextId: string;
  aad: string;
  /** Write raw bytes (a bytes column) instead of base64 text. */
  bytes: boolean;
}

/** Encrypts tasks grouped by key context: one data-key request per context in the batch. */
async function encryptAll(p: Planner, tasks: EncryptTask[]): Promise<void> {
  const opts = p.signal === undefined ? {} : { signal: p.signal };
  await Promise.all(
    groupBy(tasks, (t) => `${t.bytes ? 'b' : 's'}${t.contextId}`).map((group) =>
      p.limiter.run(async () => {
        const items = group.map((t) => ({ plaintext: t.plaintext, context: t.context, aad: t.aad }));
        const results = group[0]!.bytes
          ? await p.envelope.encryptManyToBytes(items, opts)
          : await p.envelope.encryptMany(items, opts);
        for (let i = 0; i < group.length; i++) {
          const t = group[i]!;
          const r = results[i]!;
          if (!r.ok) throw r.error;
          if (t.plan.failure === undefined) {
            t.plan.set.set(t.column, r.value);
            t.plan.outcomes.push([t.column, 'changed']);
          }
        }
      }),
    ),
  );
}

/** A value to rekey. */
interface RekeyTask {
  plan: RowPlan;
  column: string;
  ciphertext: string | Uint8Array;
  context: KeyContext;
}

/** Rekeys tasks grouped by (key blob, new context): one rekey call per group. */
async function rekeyAll(p: Planner, tasks: RekeyTask[]): Promise<void> {
  const opts = p.signal === undefined ? {} : { signal: p.signal };
  await Promise.all(
    groupBy(tasks, (t) => `${blobId(t.ciphertext)}\n${canonicalContext(t.context)}`).map((group) =>
      p.limiter.run(async () => {
        const results = await p.envelope.rekeyMany(
          group.map((t) => ({ ciphertext: t.ciphertext, context: t.context })),
          opts,
        );
        for (let i = 0; i < group.length; i++) {
          const t = group[i]!;
          const r = results[i]!;
          if (!r.ok) {
            if (!isValueError(r.error)) throw r.error;
            t.plan.outcomes.push([t.column, 'undecryptable']);
            fail(t.plan, `${t.column} could not be rekeyed (${reasonOf(r.error)})`);
          } else if (t.plan.failure === undefined) {
            t.plan.set.set(t.column, r.value);
            t.plan.outcomes.push([t.column, 'changed']);
          }
        }
      }),
    ),
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Plans a batch of rows.
 * @throws The key service's own failures (the batch is then not committed).
 */
export async function planRows(p: Planner, rows: readonly Row[]): Promise<RowPlan[]> {
  const plans: RowPlan[] = [];
  const decrypts: DecryptTask[] = [];
  const encrypts: EncryptTask[] = [];
  const rekeys: RekeyTask[] = [];
  const later: (() => void)[] = [];
  for (const row of rows) {
    const key = keyOf(row, p.key);
    const plan: RowPlan = { key, row, set: new Map(), outcomes: [], failure: undefined };
    plans.push(plan);
    let context: KeyContext | undefined;
    let contextId = '';
    let tenant: string | undefined;
    try {
      if (p.context !== undefined && p.mode !== 'verify' && p.mode !== 'reindex') {
        context = p.context.render(row);
        contextId = canonicalContext(context);
      }
      if (p.tenant !== undefined) tenant = p.tenant.render(row);
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      fail(plan, e.message);
      continue;
    }
    const id = row[p.idColumn];
    if (p.mode !== 'reindex') {
      for (const column of p.columns) {
        const value = row[column];
        if (value === null || value === undefined) {
          plan.outcomes.push([column, 'null']);
          continue;
        }
        if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
          fail(plan, `${column} holds a ${typeof value}, not text or bytes`);
          break;
        }
        const encrypted = isCiphertext(p.envelope, value);
        if (p.mode === 'encrypt') {
          if (encrypted) plan.outcomes.push([column, 'encrypted']);
          else if (p.dryRun) plan.outcomes.push([column, 'changed']);
          else {
            const aad = writeAad(p.binding, id, column, tenant);
            encrypts.push({
              plan,
              column,
              plaintext: value,
              context: context!,
              contextId,
              aad,
              bytes: typeof value !== 'string',
            });
          }
          continue;
        }
        if (!encrypted) {
          plan.outcomes.push([column, 'plaintext']);
          continue;
        }
        if (p.mode === 'rekey') {
          if (p.dryRun) plan.outcomes.push([column, 'changed']);
          else rekeys.push({ plan, column, ciphertext: value, context: context! });
        } else if (p.mode === 'reencrypt') {
          if (p.dryRun) {
            plan.outcomes.push([column, 'changed']);
            continue;
          }
          const aads = readAads(p.binding, id, column, tenant);
          decrypts.push({
            plan,
            column,
            ciphertext: value,
            aads,
            done(plaintext) {
              // Copied: the decrypted bytes are zeroed once this returns, the copy after sealing.
              encrypts.push({
                plan,
                column,
                plaintext: plaintext.slice(),
                context: context!,
                contextId,
                aad: writeAad(p.binding, id, column, tenant),
                bytes: typeof value !== 'string',
              });
            },
          });
        } else {
          decrypts.push({
            plan,
            column,
            ciphertext: value,
            aads: readAads(p.binding, id, column, tenant),
            done(_plaintext, which) {
              plan.outcomes.push([column, which === 0 ? 'ok' : 'legacy']);
            },
          });
        }
      }
    }
    if (plan.failure !== undefined) continue;
    for (const ix of p.indexes) {
      if (ix.perTenant && tenant === undefined) {
        fail(plan, `a per-tenant index needs the row's tenant`);
        break;
      }
      const index = ix.perTenant ? p.tenantIndexes.of(ix.index, tenant) : ix.index;
      const value = row[ix.column];
      const current = row[ix.into];
      const check = (computed: string | null) => {
        if (computed === (current ?? null))
          plan.outcomes.push([ix.into, p.mode === 'verify' ? 'ok' : 'unchanged']);
        else if (p.mode === 'verify') {
          plan.outcomes.push([ix.into, 'mismatch']);
          plan.failure ??= `${ix.into} does not match ${ix.column}`;
        } else {
          plan.set.set(ix.into, computed);
          plan.outcomes.push([ix.into, 'changed']);
        }
      };
      if (value === null || value === undefined) {
        check(null);
      } else if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        fail(plan, `${ix.column} holds a ${typeof value}, not text or bytes`);
      } else if (!isCiphertext(p.envelope, value)) {
        later.push(() => check(indexValue(index, value)));
      } else {
        decrypts.push({
          plan,
          column: ix.column,
          ciphertext: value,
          aads: readAads(p.binding, id, ix.column, tenant),
          done(plaintext) {
            let pt: string | Uint8Array;
            if (typeof value === 'string') {
              try {
                pt = utf8.decode(plaintext);
              } catch {
                fail(plan, `${ix.column} decrypts to bytes that are not UTF-8 text`);
                return;
              }
            } else pt = plaintext;
            check(indexValue(index, pt));
          },
        });
      }
    }
  }
  for (const f of later) f();
  await decryptAll(p, decrypts);
  try {
    await encryptAll(p, encrypts);
    await rekeyAll(p, rekeys);
  } finally {
    for (const t of encrypts)
      if (typeof t.plaintext !== 'string' && p.mode === 'reencrypt') t.plaintext.fill(0);
  }
  for (const plan of plans) if (plan.failure !== undefined) plan.set.clear();
  return plans;
}
