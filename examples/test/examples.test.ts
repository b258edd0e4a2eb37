// Each example and the demo, run as a user runs them: a child `node` process on the built
// packages, with the local server in-process. They must exit 0 and print what they promise.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const dir = new URL('..', import.meta.url);

async function example(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const cleanEnv = { ...process.env, ...env };
  if (!('WORKOS_API_KEY' in env)) delete cleanEnv.WORKOS_API_KEY;
  if (!('VAULT_BASE_URL' in env)) delete cleanEnv.VAULT_BASE_URL;
  return run(process.execPath, [file, ...args], { cwd: dir, env: cleanEnv, timeout: 110_000 });
}

describe('examples', () => {
  test.each([
    ['quickstart.mjs', /decrypted: ok, the same value/],
    [
      'field-encryption-sqlite.mjs',
      /row 3 \(id from the database\) decrypts[\s\S]*misspelt field: record must have the listed field "note"[\s\S]*copied into row 2, it fails to decrypt/,
    ],
    ['middleware.mjs', /100 requests answered[\s\S]*1 Vault calls/],
    ['key-rotation.mjs', /the rekeyed ciphertext decrypts[\s\S]*re-encrypted 300 rows/],
    ['object-api.mjs', /a stale update is refused: 409[\s\S]*iterated and deleted 25 objects/],
    [
      'multi-tenant.mjs',
      /150 values for 3 tenants under 3 data keys[\s\S]*1 row \(tenants keyed apart\)[\s\S]*without a tenant: TypeError[\s\S]*acme value read as globex: DecryptionError \(field body\)/,
    ],
    [
      'drizzle-sqlite.mjs',
      /3 data keys created[\s\S]*page of 150 users: 1 Vault call[\s\S]*user 4 \(email matches\)[\s\S]*200 rows kept, 400 rows refused \(TenantMismatchError\), 0 more Vault calls[\s\S]*a plaintext write: TypeError: users\.ssn is an encrypted column[\s\S]*\[encrypted users\.ssn\], and JSON\.stringify throws TypeError/,
    ],
    [
      'kysely-sqlite.mjs',
      /3 data keys created[\s\S]*page of 150 users: 1 Vault call[\s\S]*user 4 \(email matches\)[\s\S]*200 rows kept, 400 rows refused \(TenantMismatchError\), 0 more Vault calls[\s\S]*a plaintext write: TypeError: users\.ssn is an encrypted column[\s\S]*without the tenant's plugin: TypeError: users\.ssn is an encrypted column/,
    ],
    [
      'migrate-table.mjs',
      /verify: \d+ ok, 0 in clear, 0 rows with problems[\s\S]*lookup by email finds user 7[\s\S]*vault-envelope migrate verify: exit 0/,
    ],
  ])('%s', async (file, expected) => {
    const { stdout } = await example(file, file === 'key-rotation.mjs' ? ['--rows', '300'] : []);
    expect(stdout).toMatch(expected);
  });

  test('the demo writes, serves and compares cache off and on', async () => {
    const { stdout, stderr } = await example('demo.mjs', [
      '--records',
      '400',
      '--requests',
      '200',
      '--concurrency',
      '8',
    ]);
    expect(stderr).toMatch(/writing users: 100% \(400\/400\)/);
    expect(stdout).toMatch(/1\. Encrypting ssn, dob and email of 400 users/);
    expect(stdout).toMatch(/5 data keys created/); // one per organization, thanks to the cache
    expect(stdout).toMatch(/no cache +[\d,]+ +[\d.,]+ +[\d.,]+ +200 +- +0/);
    expect(stdout).toMatch(/cache +[\d,]+ +[\d.,]+ +[\d.,]+ +5 +\d+\.\d% +0/);
  });

  test('a bad configuration ends in one clear line and exit code 1', async () => {
    const err = await example('demo.mjs', [], { VAULT_BASE_URL: 'http://127.0.0.1:1' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    const stderr = (err as { stderr: string }).stderr.trim();
    expect(stderr).toBe(
      'demo: VAULT_BASE_URL is set but WORKOS_API_KEY is not: set both, or neither to use the local server',
    );
    const bad = await example('demo.mjs', ['--records', 'many']).catch((e: unknown) => e);
    expect((bad as { stderr: string }).stderr.trim()).toBe(
      'demo: --records must be an integer >= 1, got many',
    );
  });
});
