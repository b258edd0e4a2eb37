/**
 * The `vault-envelope` command: single values (`inspect`, `encrypt`, `decrypt`, `rekey`), table
 * jobs (`migrate encrypt|rekey|reencrypt|reindex|verify`) and blind-index keys (`index-key
 * create`). A thin shell over the engine and the client: arguments in (commander), progress and
 * a report out, and an exit code a script can act on:
 *
 * - 0: done (for `verify`: nothing left to fix);
 * - 1: an operational failure (Vault or the database unreachable or refusing; the job stopped
 *   and resumes from its last batch when run again);
 * - 2: bad input (a flag, a missing table or column, a template, a job with other settings, a
 *   value that is not a ciphertext where one is needed, no API key): one line, no stack trace;
 * - 3: the job ran, and rows are left: plaintext, values that do not decrypt, index mismatches, or
 *   rows that failed (`decrypt` of a value that does not authenticate, too);
 * - 130: stopped by SIGINT or SIGTERM after the batch in progress (resumes when run again).
 *
 * The API key comes from `WORKOS_API_KEY` or a file (`--api-key-file`), never from the command
 * line, where other users of the machine and the shell's history would see it.
 * @module
 */
import { readFileSync } from 'node:fs';
import { type CachedKeyProvider, cachedKeyProvider } from '@vault-envelope/cache';
import {
  BlindIndex,
  DecryptionError,
  Envelope,
  EnvelopeError,
  FormatError,
  inspect,
  type KeyContext,
  type KeyProvider,
  validateKeyContext,
} from '@vault-envelope/core';
import { loadIndexKey, VaultClient, VaultError } from '@vault-envelope/remote';
import { Command, CommanderError, Option } from 'commander';
import { decodeIndexKey, newIndexKey } from './_index-key.js';
import { progressView } from './_progress.js';
import type { TableAdapter } from './adapter.js';
import { type BlindIndexColumn, type MigrationMode, type MigrationReport, migrateTable } from './engine.js';
import { MigrateError } from './errors.js';
import { openDatabase } from './open.js';

/** Exit codes of the command (see the module description). */
export const EXIT: {
  readonly ok: 0;
  readonly failure: 1;
  readonly usage: 2;
  readonly problems: 3;
  readonly interrupted: 130;
} = Object.freeze({ ok: 0, failure: 1, usage: 2, problems: 3, interrupted: 130 });

/** Bad input: reported as one line, exit code 2. */
class UsageError extends Error {}

/** Where the command reads and writes; the process's by default (tests may pass their own). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A key context given on the command line as literal `name=value` entries. */
function literalContext(entries: string[] | undefined, flag: string): KeyContext {
  const ctx: Record<string, string> = {};
  for (const entry of (entries ?? []).flatMap((e) => e.split(','))) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} entries must be name=value, got ${entry || 'an empty entry'}`);
    ctx[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  try {
    return validateKeyContext(ctx, flag);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function readStdin(io: CliIo): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The ciphertext argument, or stdin when it is absent or `-`. */
async function ciphertextArg(arg: string | undefined, io: CliIo): Promise<string> {
  const text = arg === undefined || arg === '-' ? (await readStdin(io)).toString('utf8') : arg;
  return text.trim();
}

/** The Vault client from the environment and flags. */
function vaultOf(global: { baseUrl?: string; apiKeyFile?: string }, io: CliIo): VaultClient {
  let apiKey: string | undefined;
  if (global.apiKeyFile !== undefined) {
    try {
      apiKey = readFileSync(global.apiKeyFile, 'utf8').trim();
    } catch (e) {
      throw new UsageError(
        `--api-key-file could not be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  } else apiKey = io.env['WORKOS_API_KEY'];
  if (apiKey === undefined || apiKey === '') {
    throw new UsageError('no API key: set WORKOS_API_KEY or pass --api-key-file <file>');
  }
  const baseUrl = global.baseUrl ?? io.env['VAULT_BASE_URL'];
  if (baseUrl !== undefined && baseUrl !== '' && !URL.canParse(baseUrl)) {
    throw new UsageError('the Vault base URL (--base-url or VAULT_BASE_URL) is not a URL');
  }
  return new VaultClient({ apiKey, ...(baseUrl ? { baseUrl } : {}) });
}

/** Counts the calls that reach Vault. */
interface Counted {
  provider: KeyProvider;
  calls: { createDataKey: number; decryptDataKey: number; rekeyDataKey: number };
}

function countingVault(vault: VaultClient): Counted {
  const calls = { createDataKey: 0, decryptDataKey: 0, rekeyDataKey: 0 };
  return {
    calls,
    provider: {
      createDataKey(c, o) {
        calls.createDataKey++;
        return vault.createDataKey(c, o);
      },
      decryptDataKey(b, o) {
        calls.decryptDataKey++;
        return vault.decryptDataKey(b, o);
      },
      rekeyDataKey(b, c, o) {
        calls.rekeyDataKey++;
        return vault.rekeyDataKey(b, c, o);
      },
    },
  };
}

/**
 * The job's key provider: the cache over the (counted) client, so that a batch's data keys are
 * reused by the batches after it. It passes rekey calls through to the client, and `reencrypt`
 * has the engine retire its encryption keys first (it starts empty anyway: one process, one job).
 */
function jobKeys(counted: Counted): CachedKeyProvider {
  return cachedKeyProvider(counted.provider, { maxAge: 5 * 60_000 });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one-line summary of a job. */
function summary(r: MigrationReport, vaultCalls: number): string {
  const v = r.values;
  const parts: string[] = [];
  const add = (n: number, what: string) => {
    if (n > 0) parts.push(`${n} ${what}`);
  };
  if (r.mode === 'verify') {
    add(v.ok, 'ok');
    add(v.legacy, 'under an older AAD (reencrypt upgrades them)');
    add(v.null, 'null');
    add(v.plaintext, 'not encrypted');
    add(v.undecryptable, 'do not decrypt');
    add(v.mismatch, 'index mismatches');
  } else {
    add(v.changed, r.dryRun ? 'would change' : 'changed');
    add(v.encrypted, 'already encrypted');
    add(v.unchanged, 'unchanged');
    add(v.null, 'null');
    add(v.plaintext, 'not encrypted (left)');
    add(v.undecryptable, 'do not decrypt');
  }
  const rate = r.elapsedMs > 0 ? Math.round((r.rows * 1000) / r.elapsedMs) : 0;
  const state = r.complete ? 'complete' : r.interrupted ? 'stopped; run again to resume' : 'incomplete';
  return (
    `${r.mode}${r.dryRun ? ' (dry run)' : ''} ${r.table}: ${plural(r.rows, 'row')}${r.resumed ? ' (resumed)' : ''}; ` +
    `values: ${parts.length === 0 ? 'none' : parts.join(', ')}; ${plural(r.failedRows, 'row')} with problems; ` +
    `${plural(r.conflicts, 'conflict')}; ${plural(vaultCalls, 'Vault call')}; ${(r.elapsedMs / 1000).toFixed(1)} s (${rate} rows/s); ${state}`
  );
}

const keyText = (key: readonly unknown[]) => key.map((k) => String(k)).join(', ');

interface JobFlags {
  db?: string;
  table: string;
  columns?: string;
  context?: string[];
  tenant?: string;
  namespace?: string;
  idColumn?: string;
  key?: string;
  index?: string[];
  indexKeyFile?: string;
  indexKeyObject?: string;
  indexName?: string;
  indexVersion?: string;
  indexPerTenant?: boolean;
  bits?: string;
  normalize?: string;
  batchSize?: string;
  concurrency?: string;
  dryRun?: boolean;
  job?: string;
  restart?: boolean;
  checkpointTable?: string;
}

const list = (s: string | undefined) =>
  s === undefined
    ? []
    : s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');

function intFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return Number(value);
}

const NORMALIZERS: Record<string, ((s: string) => string) | undefined> = {
  none: undefined,
  lowercase: (s) => s.toLowerCase(),
  trim: (s) => s.trim(),
  'trim-lowercase': (s) => s.trim().toLowerCase(),
};

/** The blind indexes of `--index col=into`, with their key from a file or a Vault object. */
async function indexesOf(
  flags: JobFlags,
  table: string,
  vault: () => VaultClient,
): Promise<BlindIndexColumn[]> {
  const specs = (flags.index ?? []).flatMap((e) => e.split(','));
  if (specs.length === 0) return [];
  let root: Uint8Array;
  if (flags.indexKeyFile !== undefined && flags.indexKeyObject !== undefined) {
    throw new UsageError('give --index-key-file or --index-key-object, not both');
  }
  if (flags.indexKeyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.indexKeyFile, 'utf8');
    } catch (e) {
      throw new UsageError(
        `--index-key-file could not be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    try {
      root = decodeIndexKey(text, '--index-key-file');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  } else if (flags.indexKeyObject !== undefined) {
    root = await loadIndexKey(vault(), flags.indexKeyObject);
  } else {
    throw new UsageError(
      '--index needs the blind-index root key: --index-key-file <file> or --index-key-object <name>',
    );
  }
  const normalize = flags.normalize ?? 'none';
  if (!(normalize in NORMALIZERS)) {
    throw new UsageError(
      `--normalize must be one of ${Object.keys(NORMALIZERS).join(', ')}, got ${normalize}`,
    );
  }
  const bits = intFlag(flags.bits, '--bits', 1);
  const version = intFlag(flags.indexVersion, '--index-version', 0);
  const perTenant = flags.indexPerTenant === true;
  try {
    return specs.map((spec) => {
      const eq = spec.indexOf('=');
      if (eq <= 0 || eq === spec.length - 1)
        throw new UsageError(`--index must be column=indexcolumn, got ${spec}`);
      const column = spec.slice(0, eq);
      const fn = NORMALIZERS[normalize];
      const index = new BlindIndex({
        key: root,
        name: specs.length === 1 && flags.indexName !== undefined ? flags.indexName : `${table}.${column}`,
        ...(bits === undefined ? {} : { bits }),
        ...(fn === undefined ? {} : { normalize: fn }),
        ...(version === undefined || version === 0 ? {} : { version }),
      });
      return { column, into: spec.slice(eq + 1), index, perTenant };
    });
  } finally {
    root.fill(0);
  }
}

async function runJob(mode: MigrationMode, flags: JobFlags, global: GlobalFlags, io: CliIo): Promise<number> {
  const dbSpec = flags.db ?? io.env['DATABASE_URL'];
  if (dbSpec === undefined || dbSpec === '')
    throw new UsageError('no database: pass --db <connection string> or set DATABASE_URL');
  const columns = list(flags.columns);
  let vault: VaultClient | undefined;
  const vaultOnce = () => (vault ??= vaultOf(global, io));
  const counted = countingVault(vaultOnce());
  const keys = jobKeys(counted);
  const indexes = await indexesOf(flags, flags.table, vaultOnce);
  let db: TableAdapter;
  try {
    db = await openDatabase(dbSpec);
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(e.message);
    throw e;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const out = global.json ? 'json' : global.quiet ? 'quiet' : io.stderr.isTTY === true ? 'tty' : 'plain';
  if (flags.namespace === undefined && out !== 'json' && out !== 'quiet') {
    // The one setting that silently makes values unreadable by the other half of the stack.
    io.stderr.write(
      `vault-envelope: note: no --namespace, so the values bind no table name (decryptFields reads them without a namespace); the Drizzle and Kysely integrations bind the table's name: pass --namespace ${flags.table} for a column they read\n`,
    );
  }
  const view = progressView(`${mode} ${flags.table}`, out, (line) => io.stderr.write(`${line}\n`), io.stderr);
  let report: MigrationReport;
  try {
    const batchSize = intFlag(flags.batchSize, '--batch-size', 1);
    const concurrency = intFlag(flags.concurrency, '--concurrency', 1);
    report = await migrateTable({
      db,
      keys,
      mode,
      table: flags.table,
      columns,
      ...(flags.context === undefined ? {} : { context: flags.context }),
      ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
      ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
      ...(flags.idColumn === undefined ? {} : { idColumn: flags.idColumn }),
      ...(flags.key === undefined ? {} : { key: list(flags.key) }),
      indexes,
      ...(batchSize === undefined ? {} : { batchSize }),
      ...(concurrency === undefined ? {} : { concurrency }),
      dryRun: flags.dryRun === true,
      ...(flags.job === undefined ? {} : { job: flags.job }),
      restart: flags.restart === true,
      ...(flags.checkpointTable === undefined ? {} : { checkpointTable: flags.checkpointTable }),
      signal: stop.signal,
      onProgress: (p) => view.update(p),
    });
  } finally {
    view.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await keys.close();
    await db.close();
    for (const ix of indexes) ix.index.destroy();
  }
  const vaultCalls = counted.calls.createDataKey + counted.calls.decryptDataKey + counted.calls.rekeyDataKey;
  if (global.json) {
    io.stdout.write(
      `${JSON.stringify({ type: 'report', ...report, vaultCalls: counted.calls }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
    );
  } else {
    io.stdout.write(`${summary(report, vaultCalls)}\n`);
    for (const p of report.problems) io.stderr.write(`  row ${keyText(p.key)}: ${p.reason}\n`);
    if (report.failedRows > report.problems.length) {
      io.stderr.write(`  ... and ${report.failedRows - report.problems.length} more\n`);
    }
  }
  if (report.interrupted) return EXIT.interrupted;
  const left =
    report.failedRows > 0 ||
    (mode === 'verify' &&
      report.values.plaintext + report.values.undecryptable + report.values.mismatch + report.values.legacy >
        0);
  return left ? EXIT.problems : EXIT.ok;
}

interface GlobalFlags {
  baseUrl?: string;
  apiKeyFile?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The header bytes of a key blob, printable: ASCII as is, others as `\xNN`. */
function headerText(blob: Uint8Array): string {
  let s = '';
  for (const b of blob.subarray(0, 16))
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return blob.length > 16 ? `${s}...` : s;
}

function program(io: CliIo, setCode: (code: number) => void): Command {
  const write = (s: string) => io.stdout.write(s);
  const cmd = new Command('vault-envelope')
    .description(
      'Envelope encryption with WorkOS Vault: single values, and whole table columns on SQLite and PostgreSQL.',
    )
    .addOption(
      new Option('--base-url <url>', 'Vault base URL (default: VAULT_BASE_URL, else https://api.workos.com)'),
    )
    .addOption(new Option('--api-key-file <file>', 'read the API key from a file (default: WORKOS_API_KEY)'))
    .option('--json', 'machine-readable output: JSON lines of progress on stderr, the report on stdout')
    .option('--quiet', 'no progress output')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, w) => w(s.replace(/^error: /, 'vault-envelope: ')),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 operational failure (resume by running again), 2 bad input,
3 rows left to fix (verify found plaintext or undecryptable values; rows failed),
130 stopped by a signal after the batch in progress.

The API key is never taken from the command line. Examples:
  vault-envelope inspect "$CIPHERTEXT"
  vault-envelope migrate encrypt --db sqlite:app.db --table users --columns ssn,dob \\
    --context 'organization_id={org_id}' --namespace users
  vault-envelope migrate verify --db "$DATABASE_URL" --table users --columns ssn,dob --namespace users`,
    );
  const g = () => cmd.opts<GlobalFlags>();

  cmd
    .command('inspect')
    .description('show the layout of a ciphertext (format, key blob header, lengths); never decrypts')
    .argument('[ciphertext]', 'base64 ciphertext; - or nothing reads stdin')
    .action(async (arg: string | undefined) => {
      const text = await ciphertextArg(arg, io);
      let info: ReturnType<typeof inspect>;
      try {
        info = inspect(text);
      } catch (e) {
        if (FormatError.is(e)) throw new UsageError(`not a ciphertext: ${e.message}`);
        throw e;
      }
      const view = {
        format: info.format,
        ivLength: info.iv.length,
        tagLength: info.tag.length,
        keyBlobLength: info.encryptedKeys.length,
        keyBlobHeader: headerText(info.encryptedKeys),
        knownHeader: info.keyBlobHeader !== undefined,
        keyBlobEncoding: info.keyBlobEncoding,
        workosKeyBlob: info.workosKeyBlob,
        ciphertextLength: info.ciphertextLength,
      };
      if (g().json) write(`${JSON.stringify(view)}\n`);
      else for (const [k, v] of Object.entries(view)) write(`${k.padEnd(17)} ${String(v)}\n`);
    });

  cmd
    .command('encrypt')
    .description(
      'encrypt stdin (never an argument: it would show in the process list) to a base64 ciphertext',
    )
    .requiredOption('--context <name=value>', 'key context entry; repeatable or comma-separated', collect)
    .option('--aad <text>', 'associated data the ciphertext is bound to')
    .action(async (flags: { context: string[]; aad?: string }) => {
      const context = literalContext(flags.context, '--context');
      const plaintext = await readStdin(io);
      try {
        const envelope = new Envelope({ keys: vaultOf(g(), io) });
        write(
          `${await envelope.encrypt(plaintext, { context, ...(flags.aad === undefined ? {} : { aad: flags.aad }) })}\n`,
        );
      } finally {
        plaintext.fill(0);
      }
    });

  cmd
    .command('decrypt')
    .description('decrypt a ciphertext to stdout')
    .argument('[ciphertext]', 'base64 ciphertext; - or nothing reads stdin')
    .option('--aad <text>', 'the associated data given at encryption')
    .action(async (arg: string | undefined, flags: { aad?: string }) => {
      const text = await ciphertextArg(arg, io);
      try {
        inspect(text);
      } catch (e) {
        if (FormatError.is(e)) throw new UsageError(`not a ciphertext: ${e.message}`);
        throw e;
      }
      const envelope = new Envelope({ keys: vaultOf(g(), io) });
      try {
        const bytes = await envelope.decrypt(text, flags.aad === undefined ? {} : { aad: flags.aad });
        io.stdout.write(bytes);
      } catch (e) {
        if (DecryptionError.is(e)) {
          io.stderr.write(`vault-envelope: ${e.message}\n`);
          setCode(EXIT.problems);
          return;
        }
        throw e;
      }
    });

  cmd
    .command('rekey')
    .description('move a ciphertext to a new key context without re-encrypting it (one Vault call)')
    .argument('[ciphertext]', 'base64 ciphertext; - or nothing reads stdin')
    .requiredOption(
      '--context <name=value>',
      'the new key context entry; repeatable or comma-separated',
      collect,
    )
    .action(async (arg: string | undefined, flags: { context: string[] }) => {
      const context = literalContext(flags.context, '--context');
      const text = await ciphertextArg(arg, io);
      try {
        inspect(text);
      } catch (e) {
        if (FormatError.is(e)) throw new UsageError(`not a ciphertext: ${e.message}`);
        throw e;
      }
      write(`${await new Envelope({ keys: vaultOf(g(), io) }).rekey(text, context)}\n`);
    });

  const migrate = cmd
    .command('migrate')
    .description('run a job over a table: encrypt, rekey, reencrypt, reindex or verify');
  const jobCommand = (mode: MigrationMode, description: string) => {
    const c = migrate
      .command(mode)
      .description(description)
      .option(
        '--db <connection>',
        'sqlite:<file>, <file>.db, postgres://..., pglite:<dir> (default: DATABASE_URL)',
      )
      .requiredOption('--table <name>', 'the table (schema.table on PostgreSQL)')
      .option('--namespace <name>', 'the namespace of the field AAD, as the application uses it')
      .option('--id-column <column>', 'the column of the record id in the AAD (default: the primary key)')
      .option('--key <columns>', 'unique columns to walk when the table has no primary key')
      .option('--batch-size <rows>', 'rows per batch and transaction (default 500)')
      .option('--concurrency <n>', 'Vault calls in flight at most (default 8)')
      .option('--job <name>', 'the job name in the checkpoint table (default: from mode, table and columns)')
      .option('--checkpoint-table <name>', 'default vault_envelope_checkpoints');
    if (mode !== 'reindex') c.requiredOption('--columns <list>', 'the encrypted columns, comma-separated');
    if (mode === 'encrypt' || mode === 'rekey' || mode === 'reencrypt') {
      c.requiredOption(
        '--context <name=template>',
        `the key context per row${mode === 'rekey' ? ' to move to' : ''}, e.g. 'organization_id={org_id}'; repeatable`,
        collect,
      );
    }
    c.option('--tenant <template>', "the tenant per row bound into the field AAD, e.g. '{org_id}'");
    if (mode === 'reindex' || mode === 'verify') {
      c.option(
        '--index <column=indexcolumn>',
        'a blind index to write (reindex) or check (verify); repeatable',
        collect,
      )
        .option('--index-key-file <file>', 'the blind-index root key: base64 of 32 bytes in a file')
        .option(
          '--index-key-object <name>',
          'the blind-index root key: a Vault object (see index-key create)',
        )
        .option('--index-name <name>', 'the index name the key is derived with (default: table.column)')
        .option('--index-version <n>', 'the version written into index values (v<n>:...)')
        .option('--index-per-tenant', "key each row's index for its tenant (needs --tenant)")
        .option('--bits <n>', 'bits kept of each index value (default 64)')
        .option('--normalize <how>', 'none, lowercase, trim or trim-lowercase (default none)');
    }
    if (mode !== 'verify') {
      c.option('--dry-run', 'report what would change; write nothing').option(
        '--restart',
        'start over even when an unfinished job of that name exists',
      );
    }
    c.action(async (flags: JobFlags) => setCode(await runJob(mode, flags, g(), io)));
  };
  jobCommand('encrypt', 'encrypt plaintext columns (values already encrypted are left as they are)');
  jobCommand(
    'rekey',
    'move ciphertexts to a new key context without re-encrypting (one Vault call per data key)',
  );
  jobCommand('reencrypt', 'decrypt and encrypt again under fresh data keys (also upgrades older AADs)');
  jobCommand('reindex', 'write blind-index columns (backfill, or rotation to a new key and version)');
  jobCommand('verify', 'check that every value decrypts under its row; count plaintext left');

  cmd
    .command('index-key')
    .description('blind-index root keys stored in Vault')
    .command('create')
    .description(
      'create a random 32-byte blind-index root key and store it as a Vault object (never printed)',
    )
    .requiredOption('--name <name>', 'the object name, e.g. blind-index/users.email')
    .requiredOption(
      '--context <name=value>',
      'the key context of the object; repeatable or comma-separated',
      collect,
    )
    .action(async (flags: { name: string; context: string[] }) => {
      const context = literalContext(flags.context, '--context');
      const vault = vaultOf(g(), io);
      const { key, value } = newIndexKey();
      try {
        const meta = await vault.createObject({ name: flags.name, value, context });
        if (g().json) write(`${JSON.stringify({ name: flags.name, id: meta.id })}\n`);
        else write(`created ${flags.name} (object ${meta.id})\n`);
      } finally {
        key.fill(0);
      }
    });
  return cmd;
}

/**
 * Runs the command.
 * @param argv - The arguments after the program name.
 * @param io - Where to read and write (default: the process's streams and environment).
 * @returns The exit code.
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  const streams: CliIo = io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  const line = (s: string) => streams.stderr.write(`vault-envelope: ${s}\n`);
  if (argv.some((a) => a === '--api-key' || a.startsWith('--api-key='))) {
    line(
      'the API key is never taken from the command line: set WORKOS_API_KEY or pass --api-key-file <file>',
    );
    return EXIT.usage;
  }
  let code: number = EXIT.ok;
  try {
    await program(streams, (c) => {
      code = c;
    }).parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError || MigrateError.is(e) || e instanceof TypeError || e instanceof RangeError) {
      line((e as Error).message);
      return EXIT.usage;
    }
    if (VaultError.is(e) || EnvelopeError.is(e)) {
      line(`${(e as Error).name}: ${(e as Error).message}`);
      return EXIT.failure;
    }
    const err = e as NodeJS.ErrnoException;
    line(err instanceof Error ? `${err.name}: ${err.message}` : String(e));
    return EXIT.failure;
  }
}
