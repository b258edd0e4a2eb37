/**
 * Cases 1 and 4: the hot path with a cached key (format A string out and in) for the Envelope on
 * both backends, against the raw baselines and the peers, at every size. All contenders of one
 * size and direction are timed in the same interleaved rounds, so every ratio is paired.
 *
 * Contenders: the Envelope (fast, fast behind `@vault-envelope/cache`, portable); raw node:crypto
 * (per-call `randomBytes(12)`, and with a pooled IV for reference), raw @noble/ciphers, raw
 * WebCrypto; @workos-inc/node 11 three ways: HTTP stubbed (an in-process `fetch` answers its key
 * call, so its request layer and its crypto are timed), key methods stubbed (its
 * `vault.createDataKey` / `vault.decryptDataKey` answer at once, so only its local crypto is
 * timed) and with its real key call to the local server; the AWS Encryption SDK v5 with its
 * caching materials manager.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { awsEncryptionSdk, type WorkosVault, workosVault } from '@vault-envelope/bench-thirdparty';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { type DataKey, Envelope, type KeyProvider, makeDataKey } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import { type RunContext, type Skipped, serverOf } from './_context.js';
import { CONTEXT, type KeyMaterial, makeKeyMaterial, PinnedKeyProvider, plaintextOf } from './_fixtures.js';
import {
  asyncLoop,
  type Contender,
  type Measurement,
  measureGroup,
  pairedRatio,
  syncLoop,
} from './_measure.js';
import { type FieldCipher, rawNoble, rawNode, rawWebCrypto } from './_raw.js';
import { BENCH_API_KEY } from './_server.js';
import type { Spread } from './_stats.js';
import { crossValidate, type Verdict, validateRoundTrip } from './_validate.js';

/** Who a contender is. */
export type ContenderKind = 'ours' | 'raw' | 'peer';

/** One contender at one size and direction. */
export interface CryptoRow {
  op: 'encrypt' | 'decrypt';
  size: number;
  id: string;
  label: string;
  kind: ContenderKind;
  medianNs: number;
  opsPerSec: number;
  spread: Spread;
  roundsNs: number[];
  batch: number;
  samples: number;
  /** Envelope (fast, pinned key) throughput over this contender's, paired by round. */
  oursOverThis: number;
}

/** The result of cases 1 and 4. */
export interface CryptoResult {
  rows: CryptoRow[];
  validation: { size: number; verdicts: Verdict[] }[];
  skipped: Skipped[];
}

/** The id every ratio of this case is relative to. */
export const REFERENCE_ID = 'envelope-fast';

interface Entry {
  cipher: FieldCipher;
  kind: ContenderKind;
  /** Whether it joins the decrypt group (the pooled-IV baseline only differs when encrypting). */
  decrypts: boolean;
  /** A message of its own for the decrypt group (a different key or format than the others). */
  ownMessages: boolean;
  /** Format A with the shared key: cross-validated with the others. */
  formatA: boolean;
  /** Waits on another process (the key service): always timed by the wall clock. */
  io?: boolean;
}

function envelopeCipher(id: string, label: string, envelope: Envelope): FieldCipher {
  const opts = { context: CONTEXT };
  return {
    id,
    label,
    sync: false,
    encrypt: (plaintext) => envelope.encrypt(plaintext, opts),
    decrypt: (ciphertext) => envelope.decryptToString(ciphertext),
  };
}

/** A provider that unwraps only the bench blob, handing out a fresh copy each time (a cache's backing). */
function backingProvider(material: KeyMaterial): KeyProvider {
  const fresh = (): DataKey =>
    makeDataKey({
      id: 'bench_key_1',
      key: Uint8Array.from(material.key),
      encryptedKeys: material.blob.slice(),
      context: CONTEXT,
    });
  return {
    createDataKey: async () => fresh(),
    decryptDataKey: async () => fresh(),
  };
}

/** A `fetch` that answers @workos-inc/node's two key calls in process, with the bench key. */
function stubFetch(material: KeyMaterial): typeof globalThis.fetch {
  const key = material.key.toString('base64');
  const blob = Buffer.from(material.blob).toString('base64');
  const created = JSON.stringify({
    id: 'bench_key_1',
    data_key: key,
    encrypted_keys: blob,
    context: CONTEXT,
  });
  const decrypted = JSON.stringify({ id: 'bench_key_1', data_key: key });
  const headers = { 'content-type': 'application/json' };
  return async (input) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = url.endsWith('/vault/v1/keys/data-key') ? created : decrypted;
    return new Response(body, { status: 200, headers });
  };
}

async function buildContenders(
  ctx: RunContext,
  material: KeyMaterial,
): Promise<{ entries: Entry[]; skipped: Skipped[] }> {
  const pinned = new PinnedKeyProvider(material);
  const cache = cachedKeyProvider(backingProvider(material), { maxAge: 60 * 60_000 });
  const entries: Entry[] = [];
  const skipped: Skipped[] = [];
  const ours = (cipher: FieldCipher): Entry => ({
    cipher,
    kind: 'ours',
    decrypts: true,
    ownMessages: false,
    formatA: true,
  });
  entries.push(
    ours(
      envelopeCipher(REFERENCE_ID, 'Envelope, fast backend', new Envelope({ keys: pinned, backend: 'fast' })),
    ),
  );
  entries.push(
    ours(
      envelopeCipher(
        'envelope-fast-cache',
        'Envelope, fast, via @vault-envelope/cache',
        new Envelope({ keys: cache, backend: 'fast' }),
      ),
    ),
  );
  entries.push(
    ours(
      envelopeCipher(
        'envelope-portable',
        'Envelope, portable backend',
        new Envelope({ keys: pinned, backend: 'portable' }),
      ),
    ),
  );
  const raw = (cipher: FieldCipher, decrypts = true): Entry => ({
    cipher,
    kind: 'raw',
    decrypts,
    ownMessages: false,
    formatA: true,
  });
  entries.push(raw(rawNode(material)));
  entries.push(raw(rawNode(material, true), false));
  entries.push(raw(rawNoble(material)));
  entries.push(raw(await rawWebCrypto(material)));

  const workosEntry = (id: string, label: string, sdk: WorkosVault): Entry => ({
    cipher: {
      id,
      label,
      sync: false,
      encrypt: (pt) => sdk.encrypt(pt, CONTEXT),
      decrypt: (ct) => sdk.decrypt(ct),
    },
    kind: 'peer',
    decrypts: true,
    ownMessages: false,
    formatA: true,
  });
  entries.push(
    workosEntry(
      'workos-http-stubbed',
      '@workos-inc/node 11, HTTP stubbed (SDK request layer + crypto)',
      workosVault({ apiKey: BENCH_API_KEY, fetch: stubFetch(material) }),
    ),
  );
  entries.push(
    workosEntry(
      'workos-keys-stubbed',
      '@workos-inc/node 11, key methods stubbed (crypto only)',
      workosVault({
        apiKey: BENCH_API_KEY,
        dataKey: {
          id: 'bench_key_1',
          key: material.key,
          encryptedKeys: material.blob,
          context: { ...CONTEXT },
        },
      }),
    ),
  );

  const server = serverOf(ctx);
  if (server === undefined) {
    skipped.push({
      id: 'workos-real',
      reason: `no local server: ${(ctx.server as { unavailable: string }).unavailable}`,
    });
  } else {
    const real = workosVault({ apiKey: BENCH_API_KEY, baseUrl: server.url });
    entries.push({
      cipher: {
        id: 'workos-real',
        label: '@workos-inc/node 11, real key call (local server, loopback)',
        sync: false,
        encrypt: (pt) => real.encrypt(pt, CONTEXT),
        decrypt: (ct) => real.decrypt(ct),
      },
      kind: 'peer',
      decrypts: true,
      ownMessages: true,
      formatA: false,
      io: true,
    });
  }

  const aws = awsEncryptionSdk({ wrappingKey: randomBytes(32), cache: true, maxAge: 60 * 60_000 });
  entries.push({
    cipher: {
      id: 'aws-sdk-cached',
      label: 'AWS Encryption SDK v5, caching CMM',
      sync: false,
      // Base64 out and in, as for the others: the field goes into a text column either way.
      encrypt: async (pt) =>
        Buffer.from(await aws.encrypt(Buffer.from(pt, 'utf8'), CONTEXT)).toString('base64'),
      decrypt: async (ct) => Buffer.from(await aws.decrypt(Buffer.from(ct, 'base64'))).toString('utf8'),
    },
    kind: 'peer',
    decrypts: true,
    ownMessages: true,
    formatA: false,
  });
  return { entries, skipped };
}

/** Checks the contenders that can not be cross-validated with the shared key. */
async function validateOthers(
  ctx: RunContext,
  entries: readonly Entry[],
  plaintext: string,
): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  const server = serverOf(ctx);
  for (const e of entries.filter((x) => !x.formatA)) {
    const v = await validateRoundTrip(
      e.cipher.id,
      async (p) => e.cipher.encrypt(p),
      async (m) => e.cipher.decrypt(m),
      plaintext,
    );
    if (e.cipher.id === 'workos-real' && server !== undefined && v.ok) {
      // Its messages and ours must decrypt each other through the same key service.
      const ours = new Envelope({ keys: new VaultClient({ apiKey: BENCH_API_KEY, baseUrl: server.url }) });
      try {
        const theirs = await e.cipher.encrypt(plaintext);
        if ((await ours.decryptToString(theirs)) === plaintext) v.passed++;
        else throw new Error('Envelope read a different plaintext from its message');
        const mine = await ours.encrypt(plaintext, { context: CONTEXT });
        if ((await e.cipher.decrypt(mine)) === plaintext) v.passed++;
        else throw new Error('it read a different plaintext from an Envelope message');
      } catch (err) {
        v.ok = false;
        v.failures.push(`interop with Envelope over VaultClient: ${(err as Error).message}`);
      }
    }
    verdicts.push(v);
  }
  return verdicts;
}

function loopOf(cipher: FieldCipher, run: () => unknown): (n: number) => unknown {
  return cipher.sync ? syncLoop(run) : asyncLoop(run as () => Promise<unknown>);
}

function rowsOf(
  op: 'encrypt' | 'decrypt',
  size: number,
  measured: readonly Measurement[],
  kinds: ReadonlyMap<string, ContenderKind>,
): CryptoRow[] {
  const ref = measured.find((m) => m.id === REFERENCE_ID)!;
  return measured.map((m) => ({
    op,
    size,
    id: m.id,
    label: m.label,
    kind: kinds.get(m.id)!,
    medianNs: m.medianNs,
    opsPerSec: 1e9 / m.medianNs,
    spread: m.spread,
    roundsNs: m.roundsNs,
    batch: m.batch,
    samples: m.samples,
    oursOverThis: pairedRatio(ref, m),
  }));
}

/**
 * Times one direction at one size. With the CPU clock, contenders that wait on the key service
 * are timed in a second, wall-clock group together with the reference, so that their ratio is
 * still paired and still counts the wait.
 */
async function timeGroup(
  ctx: RunContext,
  op: 'encrypt' | 'decrypt',
  size: number,
  contenders: readonly (Contender & { io: boolean })[],
  kinds: ReadonlyMap<string, ContenderKind>,
): Promise<CryptoRow[]> {
  ctx.log(`  ${op} ${size} B: ${contenders.length} contenders`);
  if (ctx.settings.clock !== 'cpu' || !contenders.some((c) => c.io)) {
    return rowsOf(op, size, await measureGroup(contenders, ctx.settings), kinds);
  }
  const local = rowsOf(
    op,
    size,
    await measureGroup(
      contenders.filter((c) => !c.io),
      ctx.settings,
    ),
    kinds,
  );
  const wallGroup = contenders.filter((c) => c.io || c.id === REFERENCE_ID);
  const wall = rowsOf(op, size, await measureGroup(wallGroup, { ...ctx.settings, clock: 'wall' }), kinds);
  return [...local, ...wall.filter((r) => r.id !== REFERENCE_ID)];
}

/**
 * Runs cases 1 and 4.
 * @param ctx - The run.
 * @returns Rows for every size, direction and contender, the validation verdicts and what was skipped.
 */
export async function runCryptoCase(ctx: RunContext): Promise<CryptoResult> {
  const material = makeKeyMaterial();
  const { entries, skipped } = await buildContenders(ctx, material);
  const kinds = new Map(entries.map((e) => [e.cipher.id, e.kind]));
  const rows: CryptoRow[] = [];
  const validation: CryptoResult['validation'] = [];
  for (const size of ctx.sizes) {
    const plaintext = plaintextOf(size);
    const verdicts = [
      ...(await crossValidate(
        entries.filter((e) => e.formatA).map((e) => e.cipher),
        plaintext,
        material.blob,
      )),
      ...(await validateOthers(ctx, entries, plaintext)),
    ];
    validation.push({ size, verdicts });
    const failed = new Set(verdicts.filter((v) => !v.ok).map((v) => v.id));
    for (const id of failed) ctx.log(`  ${id} failed validation at ${size} B: not timed`);
    const live = entries.filter((e) => !failed.has(e.cipher.id));
    if (!live.some((e) => e.cipher.id === REFERENCE_ID))
      throw new Error('the Envelope failed its own validation');

    const enc = live.map((e) => ({
      id: e.cipher.id,
      label: e.cipher.label,
      io: e.io === true,
      loop: loopOf(e.cipher, () => e.cipher.encrypt(plaintext)),
    }));
    rows.push(...(await timeGroup(ctx, 'encrypt', size, enc, kinds)));

    const shared = await live.find((e) => e.cipher.id === REFERENCE_ID)!.cipher.encrypt(plaintext);
    const dec: (Contender & { io: boolean })[] = [];
    for (const e of live.filter((x) => x.decrypts)) {
      const message = e.ownMessages ? await e.cipher.encrypt(plaintext) : shared;
      dec.push({
        id: e.cipher.id,
        label: e.cipher.label,
        io: e.io === true,
        loop: loopOf(e.cipher, () => e.cipher.decrypt(message)),
      });
    }
    rows.push(...(await timeGroup(ctx, 'decrypt', size, dec, kinds)));
  }
  return { rows, validation, skipped };
}
