/**
 * The vitest global setup of `pnpm test:services`: starts one PostgreSQL server for the run and
 * hands its connection string to the test processes (`VAULT_ENVELOPE_TEST_POSTGRES_URL`, read by
 * `servicesPostgresUrl()`); stops it and removes its directory afterwards. A machine without
 * the server binaries fails here, with the command that installs them.
 * @module
 */
import { startPostgres } from './index.js';

export default async function setup() {
  const server = await startPostgres();
  process.env.VAULT_ENVELOPE_TEST_POSTGRES_URL = server.url;
  process.env.VAULT_ENVELOPE_TEST_SERVICES = '1';
  return async () => {
    await server.stop();
  };
}
