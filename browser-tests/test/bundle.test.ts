/**
 * The browser bundle itself: it builds for platform 'browser' with no Node polyfill and no
 * `node:` import, stands alone, and holds only our packages and their declared dependencies.
 * The negative cases show that the build would catch a Node import.
 * @module
 */
import { describe, expect, test } from 'vitest';
import { ALLOWED_PACKAGES, buildBundle, packageOf } from '../scripts/bundle.mjs';

describe('the browser bundle of core + cache + remote', () => {
  test('builds with exactly the expected packages and imports nothing', async () => {
    const b = await buildBundle();
    expect(b.packages).toEqual([...ALLOWED_PACKAGES].sort());
    expect(b.imports).toEqual([]);
    expect(b.inputs.some((i) => i.startsWith('src/'))).toBe(true);
    // The packages are bundled from their published output (dist through the exports map).
    for (const i of b.inputs.filter((x) => packageOf(x).startsWith('@vault-envelope/'))) {
      expect(i).toMatch(/\/dist\/[^/]+\.js$/);
    }
    expect(b.code).not.toMatch(/\bfrom\s*["']node:/);
    expect(b.code).not.toMatch(/\bimport\s*\(\s*["']node:/);
  });

  test("core's Node-only modules stay out: the stand-ins of #node, #fast and #cached go in, and core refers to no Buffer", async () => {
    const b = await buildBundle();
    const core = b.inputs
      .filter((i) => packageOf(i) === '@vault-envelope/core')
      .map((i) => i.split('/').pop());
    for (const f of ['_node.js', '_fast.js', '_cached.js']) expect(core).not.toContain(f);
    for (const f of ['_no-node.js', '_no-fast.js', '_no-cached.js']) expect(core).toContain(f);
    expect(b.code).not.toMatch(/getBuiltinModule/);
    // Core alone, minified (no comments left): not even a feature test of a global Buffer.
    const alone = await buildBundle({ contents: "export * from '@vault-envelope/core';", minify: true });
    expect(alone.code).not.toMatch(/\bBuffer\b/);
    expect(alone.code).not.toMatch(/getBuiltinModule/);
  });

  test("a static import of 'node:crypto' fails the build, naming the import", async () => {
    await expect(
      buildBundle({ contents: "import { randomBytes } from 'node:crypto'; export const r = randomBytes;" }),
    ).rejects.toThrow(/node:crypto/);
  });

  test("a bare Node built-in ('buffer') fails the build too: no polyfill is injected", async () => {
    await expect(buildBundle({ contents: "export { Buffer } from 'buffer';" })).rejects.toThrow(/buffer/);
  });

  test('packageOf names the package of a bundle input', () => {
    expect(packageOf('../node_modules/.pnpm/ky@1.14.3/node_modules/ky/distribution/index.js')).toBe('ky');
    expect(packageOf('../node_modules/.pnpm/x/node_modules/@noble/ciphers/aes.js')).toBe('@noble/ciphers');
    expect(packageOf('../packages/core/dist/aead.js')).toBe('@vault-envelope/core');
    expect(packageOf('src/entry.ts')).toBe('(local)');
  });
});
