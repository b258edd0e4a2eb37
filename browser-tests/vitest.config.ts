import { defineConfig } from 'vitest/config';

// The browser and edge runs (`pnpm test:browser`), kept out of the default `pnpm test` (which
// needs no Chromium). They load the packages' built output, so run `pnpm run build` first.
// `--experimental-vm-modules` gives the edge run `vm.SourceTextModule`.
export default defineConfig({
  test: {
    name: 'browser',
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
