/**
 * A typed consumer of the installed Drizzle integration: the encrypted column types give Drizzle
 * plaintext types, and `encrypt` takes a table's insert values. Checked with `skipLibCheck` on:
 * drizzle-orm 0.45's own declarations do not pass a library check under these strict settings
 * (its `.d.ts` files report errors of their own); our declarations are still checked where this
 * file uses them. The `@ts-expect-error` lines fail the check (TS2578) if the types were `any`.
 * @module
 */
import { MemoryKeyProvider } from '@vault-envelope/core';
import { DrizzleVault, RowDecryptionError } from '@vault-envelope/drizzle';
import { encryptedBytes, encryptedText } from '@vault-envelope/drizzle/sqlite-core';
import type { InferSelectModel } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  ssn: encryptedText('ssn'),
  photo: encryptedBytes('photo'),
});
type User = InferSelectModel<typeof users>;
const ssn: string | null = ({} as User).ssn;
const photo: Uint8Array | null = ({} as User).photo;

const keys = new MemoryKeyProvider();
const vault = new DrizzleVault({
  keys,
  tables: [{ table: users, tenant: users.orgId, context: { organization_id: 'org_1' } }],
});
const v = vault.forTenant('org_1');
async function write(): Promise<void> {
  await v.encrypt(users, { id: 1, orgId: 'org_1', ssn: '123' });
  // @ts-expect-error: ssn is a text column
  await v.encrypt(users, { id: 1, ssn: 42 });
}
const guard: (e: unknown) => boolean = RowDecryptionError.is;
void [ssn, photo, write, guard];
