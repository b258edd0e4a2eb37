/**
 * The engine suite (_suite.ts) on PostgreSQL: PGlite in the default run, the real server of
 * `pnpm test:services` (a database of its own) when that runs.
 */
import { servicesPostgresUrl } from '@vault-envelope/test-services';
import { openPostgres } from './_db.js';
import { engineSuite } from './_suite.js';

engineSuite(
  servicesPostgresUrl() === undefined ? 'PostgreSQL (PGlite)' : 'PostgreSQL (server)',
  openPostgres,
);
