/**
 * A typed consumer of the four installed packages, with static `import` declarations. The pack
 * check type-checks it in an ESM project (`module`/`moduleResolution` node16), in a bundler
 * project (`moduleResolution` bundler), and in a CommonJS project (`module` nodenext), where it
 * is also compiled and run: tsc turns these imports into `require()` calls, which Node >= 20.19
 * answers with the ESM-only packages. In a CommonJS project with `module` node16 the same file
 * must fail with TS1479, as the documentation says.
 *
 * The `@ts-expect-error` lines prove the declarations were found: were a package typed `any`,
 * the directive would be unused and tsc would fail with TS2578. No top-level `await`, so that
 * the file is valid as CommonJS too.
 * @module
 */
import { type CachedKeyProvider, cachedKeyProvider, type KeyCacheStats } from '@vault-envelope/cache';
import {
  type CiphertextInfo,
  type DataKey,
  DecryptionError,
  decodeBase64,
  Envelope,
  type KeyProvider,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import { NotFoundError, VaultClient, type VaultClientOptions } from '@vault-envelope/remote';
import { type RunningServer, type ServerOptions, startServer } from '@vault-envelope/server';

async function main(): Promise<string> {
  const memory: KeyProvider = new MemoryKeyProvider();
  const keys: CachedKeyProvider = cachedKeyProvider(memory, { maxAge: 60_000 });
  const envelope = new Envelope({ keys });
  const context = { organization_id: 'org_types' };
  const ct: string = await envelope.encrypt('123-45-6789', { context, aad: 'users/42/ssn' });
  const plain: string = await envelope.decryptToString(ct, { aad: 'users/42/ssn' });
  const tampered: Uint8Array = decodeBase64(ct);
  tampered[tampered.length - 1]! ^= 1;
  const refused: boolean = await envelope.decrypt(tampered, { aad: 'users/42/ssn' }).then(
    () => false,
    (e: unknown) => DecryptionError.is(e),
  );
  const stats: KeyCacheStats = keys.stats();
  await keys.close();

  const options: ServerOptions = { port: 0, memory: true, apiKeys: ['sk_types'] };
  const server: RunningServer = await startServer(options);
  let found: string;
  try {
    const clientOptions: VaultClientOptions = { apiKey: 'sk_types', baseUrl: server.url, retry: 0 };
    const vault = new VaultClient(clientOptions);
    const dk: DataKey = await vault.createDataKey(context);
    const length: number = dk.key.length;
    dk.key.fill(0);
    found = await vault.readObject({ id: 'secret_missing' }).then(
      () => 'found',
      (e: unknown) => (NotFoundError.is(e) ? `not found (${e.status})` : 'other'),
    );
    found += `, data key ${length} bytes`;
  } finally {
    await server.close();
  }

  if (plain !== '123-45-6789' || !refused || stats.misses !== 1) throw new Error('unexpected result');
  return `round trip, tampered refused, ${stats.misses} cache miss, ${found}`;
}

function typesAreReal(envelope: Envelope, info: CiphertextInfo): void {
  // @ts-expect-error: decryptToString resolves to a string, not a number
  const n: number = envelope.decryptToString('');
  // @ts-expect-error: maxAge is required
  cachedKeyProvider(new MemoryKeyProvider(), {});
  // @ts-expect-error: apiKey is a string
  new VaultClient({ apiKey: 42 });
  // @ts-expect-error: port is a number
  void startServer({ port: '8787' });
  // @ts-expect-error: format is one of 'A' | 'legacy' | 'B'
  const format: 'C' = info.format;
  void n;
  void format;
}
void typesAreReal;

main().then(
  (line) => console.log(`typed consumer: ${line}`),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
