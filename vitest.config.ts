import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import every package by its public name, as users do. The aliases point those names at
// the sources so that `vitest` needs no build; a separate test (packages/core/test/dist.test.ts)
// imports the built output through the `exports` maps, as a Node consumer would.
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@vault-envelope/core': src('core'),
      '@vault-envelope/remote': src('remote'),
      '@vault-envelope/cache': src('cache'),
      '@vault-envelope/server': src('server'),
      '@vault-envelope/migrate': src('migrate'),
      // Subpaths before their package: an alias also matches the names it is a prefix of.
      '@vault-envelope/drizzle/sqlite-core': fileURLToPath(
        new URL('./packages/drizzle/src/sqlite-core.ts', import.meta.url),
      ),
      '@vault-envelope/drizzle/pg-core': fileURLToPath(
        new URL('./packages/drizzle/src/pg-core.ts', import.meta.url),
      ),
      '@vault-envelope/orm-core': src('orm-core'),
      '@vault-envelope/drizzle': src('drizzle'),
      '@vault-envelope/kysely': src('kysely'),
      // Core's subpath imports, to the sources of their Node builds (the package maps them into dist).
      '#node': fileURLToPath(new URL('./packages/core/src/_node.ts', import.meta.url)),
      '#fast': fileURLToPath(new URL('./packages/core/src/_fast.ts', import.meta.url)),
      '#cached': fileURLToPath(new URL('./packages/core/src/_cached.ts', import.meta.url)),
    },
  },
  test: {
    projects: [
      ...['core', 'remote', 'cache', 'server', 'migrate', 'orm-core', 'drizzle', 'kysely'].map((name) => ({
        extends: true as const,
        test: {
          name,
          root: fileURLToPath(new URL(`./packages/${name}`, import.meta.url)),
          include: ['test/**/*.test.ts'],
          // `*.services.test.ts` need a real database server: `pnpm test:services` runs them.
          exclude: ['test/**/*.services.test.ts'],
          testTimeout: 30_000,
        },
      })),
      // The cross-package security suites (the secret scan of every error path of core, cache and
      // remote), which import several packages at once.
      {
        extends: true as const,
        test: {
          name: 'security',
          root: fileURLToPath(new URL('./test', import.meta.url)),
          include: ['security/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      // Type-checks every TypeScript block of README.md, docs/*.md and the package READMEs against
      // the built packages, and runs the blocks marked runnable against the local server.
      {
        extends: true as const,
        test: {
          name: 'docs',
          root: fileURLToPath(new URL('./docs', import.meta.url)),
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // Runs every example as a child process against the built packages (a smoke test of the
      // examples and the demo, as a user runs them).
      {
        extends: true as const,
        test: {
          name: 'examples',
          root: fileURLToPath(new URL('./examples', import.meta.url)),
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
