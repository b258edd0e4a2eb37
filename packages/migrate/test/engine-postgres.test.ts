import { servicesPostgresUrl } from '@vault-envelope/test-services';
import { openPostgres } from './_db.js';
import { engineSuite } from './_suite.js';

engineSuite(
  servicesPostgresUrl() === undefined ? 'PostgreSQL (PGlite)' : 'PostgreSQL (server)',
  openPostgres,
);
