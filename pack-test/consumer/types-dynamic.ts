/**
 * How a CommonJS TypeScript project uses the ESM-only packages with `module` node16 or nodenext
 * (TypeScript >= 5.3): types through an `import()` type with
 * `'resolution-mode': 'import'` (`import type { X } from '...' with { 'resolution-mode': 'import' }`
 * is the same; our linter cannot parse that form yet), values through `await import()`, which tsc
 * leaves as a real dynamic import in CommonJS output. The pack check type-checks it in a
 * `"type": "commonjs"` project, compiles it and runs it. TypeScript 5.0-5.2 reject the attribute
 * syntax (TS1005, TS1128).
 * @module
 */
type KeyCacheStats = import('@vault-envelope/cache', { with: { 'resolution-mode': 'import' }}).KeyCacheStats;
type Envelope = import('@vault-envelope/core', { with: { 'resolution-mode': 'import' }}).Envelope;

async function main(): Promise<string> {
  const { Envelope: EnvelopeClass, MemoryKeyProvider } = await import('@vault-envelope/core');
  const { cachedKeyProvider } = await import('@vault-envelope/cache');
  const { VaultClient } = await import('@vault-envelope/remote');
  const { startServer } = await import('@vault-envelope/server');

  const keys = cachedKeyProvider(new MemoryKeyProvider(), { maxAge: 60_000 });
  const envelope: Envelope = new EnvelopeClass({ keys });
  const context = { organization_id: 'org_dynamic' };
  const plain: string = await envelope.decryptToString(await envelope.encrypt('4111', { context }));
  const stats: KeyCacheStats = keys.stats();
  await keys.close();

  const server = await startServer({ port: 0, memory: true, apiKeys: ['sk_dynamic'] });
  let length: number;
  try {
    const vault = new VaultClient({ apiKey: 'sk_dynamic', baseUrl: server.url, retry: 0 });
    const dk = await vault.createDataKey(context);
    length = dk.key.length;
    dk.key.fill(0);
  } finally {
    await server.close();
  }
  // @ts-expect-error: the declarations were found, so a string is not a number
  const n: number = plain;
  void n;
  if (plain !== '4111' || stats.misses !== 1 || length !== 32) throw new Error('unexpected result');
  return `round trip, ${stats.misses} cache miss, data key ${length} bytes`;
}

main().then(
  (line) => console.log(`dynamic import() consumer: ${line}`),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
