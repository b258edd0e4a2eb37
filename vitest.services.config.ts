import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `pnpm test:services`: the suites that take a database, run against a real PostgreSQL server
// (Debian's binaries, started once by the global setup in a temporary directory and stopped
// after) instead of the embedded PGlite of the default run, plus the tests that only make sense
// on a server (the 50,000-row crash test). Each suite makes a database of its own on it.
const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}`, import.meta.url));

export default mergeConfig(
  { resolve: base.resolve },
  defineConfig({
    test: {
      globalSetup: [fileURLToPath(new URL('./tools/test-services/global-setup.js', import.meta.url))],
      testTimeout: 300_000,
      hookTimeout: 120_000,
      projects: [
        {
          extends: true as const,
          test: {
            name: 'services',
            root: pkg('migrate'),
            include: ['test/**/*-postgres.test.ts', 'test/**/*.services.test.ts'],
          },
        },
        // The ORM integrations' suites on the server (their PGlite twins run by default).
        ...['drizzle', 'kysely'].map((name) => ({
          extends: true as const,
          test: { name: `services-${name}`, root: pkg(name), include: ['test/**/*.services.test.ts'] },
        })),
      ],
    },
  }),
);
