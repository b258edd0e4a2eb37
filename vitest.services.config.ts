import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `pnpm test:services`: the suites that take a database, run against a real PostgreSQL server
// (Debian's binaries, started by the global setup in a temporary directory and stopped after)
// instead of the embedded PGlite of the default run, plus the tests that only make sense on a
// server (the 50,000-row crash test).
export default mergeConfig(
  { resolve: base.resolve },
  defineConfig({
    test: {
      name: 'services',
      root: fileURLToPath(new URL('./packages/migrate', import.meta.url)),
      include: ['test/**/*-postgres.test.ts', 'test/**/*.services.test.ts'],
      globalSetup: [fileURLToPath(new URL('./tools/test-services/global-setup.js', import.meta.url))],
      testTimeout: 300_000,
      hookTimeout: 120_000,
    },
  }),
);
