// @ts-check
/**
 * Builds the browser bundles with esbuild (platform 'browser', format esm, no polyfills) and
 * measures them (minified + gzip). Used by the tests, which load the bundle into Chromium and an
 * edge-like `vm` context, and by `size.mjs`, which checks the size budget.
 *
 * esbuild injects no Node polyfills, and for platform 'browser' it cannot resolve `node:*` or
 * any other Node built-in: an import of one fails the build with the importing file and line.
 * The checks on the metafile make sure that nothing else slipped in (a polyfill package, a
 * `require` shim).
 * @module
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('..', import.meta.url));

/** The entry of the check bundle (core + cache + remote and the checks). */
export const CHECKS_ENTRY = fileURLToPath(new URL('../src/entry.ts', import.meta.url));

/**
 * Packages that may appear in a bundle: ours and their declared runtime dependencies.
 * Anything else in the metafile's inputs (a `buffer` or `process` polyfill...) fails the build.
 */
export const ALLOWED_PACKAGES = Object.freeze([
  '@vault-envelope/core',
  '@vault-envelope/cache',
  '@vault-envelope/remote',
  '@noble/ciphers',
  '@noble/hashes',
  'ky',
]);

/**
 * Where the bench bundles find @noble/ciphers for their raw baseline: the copy core depends on
 * (this package does not depend on it itself).
 */
export const CORE_NODE_MODULES = fileURLToPath(new URL('../../packages/core/node_modules', import.meta.url));

/**
 * @typedef {object} Bundle
 * @property {string} code - The bundled ES module.
 * @property {string[]} packages - The packages whose files went into it, sorted.
 * @property {string[]} inputs - Every input file, relative to the package directory.
 * @property {string[]} imports - What the output still imports (none: a bundle stands alone).
 * @property {number} bytes - Size of `code` in bytes.
 * @property {number} gzipBytes - Size of `code` after gzip (level 9).
 */

/**
 * The package an input path belongs to (`node_modules/.pnpm/x/node_modules/@noble/ciphers/aes.js`
 * → `@noble/ciphers`; a workspace package's `../packages/core/dist/x.js` → `@vault-envelope/core`).
 * @param {string} input - A metafile input path.
 * @returns {string} The package name, or `'(local)'` for this package's own sources.
 */
export function packageOf(input) {
  const nm = input.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = input.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? input);
  }
  const ws = /(?:^|\/)packages\/([^/]+)\//.exec(input);
  if (ws !== null) return `@vault-envelope/${ws[1]}`;
  return '(local)';
}

/**
 * Bundles one entry for browsers.
 * @param {{ entry?: string, contents?: string, minify?: boolean, nodePaths?: string[] }} [options] -
 *   An entry file, or the entry's source text (resolved from this package's directory); `minify`
 *   for the size check; `nodePaths`, more directories to resolve packages from (the benches give
 *   {@link CORE_NODE_MODULES}).
 * @returns {Promise<Bundle>} The bundle and what went into it.
 * @throws {Error} When esbuild fails (an unresolvable `node:` import among others), or an input
 *   comes from a package outside {@link ALLOWED_PACKAGES}, or the output calls `require`.
 * @example
 * ```js
 * const { code, gzipBytes } = await buildBundle({ contents: "export * from '@vault-envelope/core';", minify: true });
 * ```
 */
export async function buildBundle(options = {}) {
  const { entry = CHECKS_ENTRY, contents, minify = false, nodePaths = [] } = options;
  const result = await esbuild.build({
    ...(contents === undefined
      ? { entryPoints: [entry] }
      : { stdin: { contents, resolveDir: here, sourcefile: 'entry.js', loader: 'js' } }),
    absWorkingDir: here,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    nodePaths,
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  const inputs = Object.keys(result.metafile.inputs);
  const packages = [...new Set(inputs.map(packageOf).filter((p) => p !== '(local)'))].sort();
  const foreign = packages.filter((p) => !ALLOWED_PACKAGES.includes(p));
  if (foreign.length > 0) throw new Error(`the bundle pulled in unexpected packages: ${foreign.join(', ')}`);
  const code = out.text;
  // esbuild turns a `require()` it cannot bundle into a `__require` shim that throws in browsers.
  if (/\b__require\b/.test(code)) throw new Error('the bundle contains a require() shim');
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return {
    code,
    packages,
    inputs,
    imports,
    bytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
  };
}
