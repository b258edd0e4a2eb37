/**
 * A typed consumer of the installed Kysely integration and of orm-core: the vault takes the DB
 * interface and a table's insertable values. Type-checked with the library check on (our
 * declarations and kysely's), in an ESM project (node16) and in a bundler project; the
 * `@ts-expect-error` lines fail the check (TS2578) if a package's types resolved to `any`.
 * @module
 */
import { MemoryKeyProvider } from '@vault-envelope/core';
import { KyselyVault, RowDecryptionError, type TableDeclaration } from '@vault-envelope/kysely';
import { EncryptedTables } from '@vault-envelope/orm-core';

interface DB {
  users: { id: number; org_id: string; ssn: string | null };
}
const keys = new MemoryKeyProvider();
const declaration: TableDeclaration = {
  table: 'users',
  id: 'id',
  tenant: 'org_id',
  context: { organization_id: 'org_1' },
  columns: { ssn: 'text' },
};
const kvault = new KyselyVault<DB>({ keys, tables: [declaration] });
async function kwrite(): Promise<void> {
  await kvault.forTenant('org_1').encrypt('users', { id: 1, org_id: 'org_1', ssn: 'x' });
  // @ts-expect-error: not a table of DB
  await kvault.forTenant('org_1').encrypt('posts', { id: 1 });
}
// @ts-expect-error: keys is required
new EncryptedTables({ tables: [] });
const guard: (e: unknown) => boolean = RowDecryptionError.is;
void [kwrite, guard];
