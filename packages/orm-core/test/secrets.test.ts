// No error of the engine shows a value: every refusal of a write and every failure of a read is
// provoked with a random plaintext in play, and neither the plaintext nor the stored ciphertext
// may appear in the error's message, stack, cause chain or `util.inspect` output (any 12
// consecutive characters count as a hit).
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { MemoryKeyProvider } from '@vault-envelope/core';
import {
  EncryptedTables,
  type PlaintextRead,
  RowDecryptionError,
  type RowFailure,
} from '@vault-envelope/orm-core';
import { describe, expect, test } from 'vitest';

const secret = `pt-${randomBytes(24).toString('hex')}`;
const WINDOW = 12;

function fragments(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + WINDOW <= text.length; i++) out.push(text.slice(i, i + WINDOW));
  return out;
}

/** Everything an error shows, its cause chain included. */
function shown(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (e instanceof Error) parts.push(e.message, e.stack ?? '');
    parts.push(inspect(e, { showHidden: true, depth: 4 }));
    if (e instanceof RowDecryptionError) for (const f of e.failures) parts.push(shown(f.error));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

function expectClean(error: unknown, ...values: string[]): void {
  const text = shown(error);
  for (const v of values) for (const f of fragments(v)) expect(text.includes(f), `shows ${f}`).toBe(false);
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const tables = new EncryptedTables({
  keys: new MemoryKeyProvider(),
  tables: [
    {
      table: 'users',
      id: 'id',
      tenant: 'org_id',
      context: ({ tenant }) => ({ organization_id: tenant! }),
      columns: { ssn: 'text', photo: 'bytes' },
    },
  ],
});
const scope = tables.forTenant('org_1');

describe('errors show no value', () => {
  test('refused writes', async () => {
    const stored = await scope.encrypt('users', { id: 1, ssn: secret });
    for (const row of [
      { id: 1, ssn: `${secret}\ud800` },
      { id: 1, photo: secret },
      { id: 1, ssn: stored.ssn },
      { ssn: secret },
      { id: secret.slice(0, 5) + '\u0000', ssn: secret },
      { id: 1, org_id: 'org_2', ssn: secret },
      { id: 1, org_id: null, ssn: secret },
    ]) {
      expectClean(await caught(scope.encrypt('users', row)), secret, stored.ssn as string);
    }
  });

  test('failed reads, thrown and reported', async () => {
    const [a, b] = await scope.encrypt('users', [
      { id: 1, ssn: secret },
      { id: 2, ssn: `${secret}-2` },
    ]);
    const photo = await scope.encrypt('users', { id: 3, photo: new Uint8Array([0xff, 0xfe, 0xfd]) });
    const rows = [
      { ...b!, ssn: a!.ssn }, // moved to another row
      { id: 1, ssn: secret }, // a plaintext in the column
      { id: 1, org_id: 'org_2', ssn: a!.ssn }, // another tenant's row
      { id: 3, ssn: photo.photo }, // bytes in a text column
    ];
    const e = await caught(scope.decrypt('users', rows));
    expect(RowDecryptionError.is(e)).toBe(true);
    expectClean(e, secret, a!.ssn as string, b!.ssn as string);
    const other = await caught(tables.forTenant('org_9').decrypt('users', [a!]));
    expectClean(other, secret, a!.ssn as string);
    const reported: RowFailure[] = [];
    await scope.decrypt('users', rows, { onRowError: (f) => reported.push(f) });
    expect(reported).toHaveLength(4);
    for (const f of reported) expectClean(f.error, secret, a!.ssn as string);
  });

  test('the migration read mode: refused plaintexts, a missing tenant column, and the reports', async () => {
    const reads: PlaintextRead[] = [];
    const lenient = new EncryptedTables({
      keys: new MemoryKeyProvider(),
      allowPlaintext: true,
      onPlaintext: (r) => reads.push(r),
      tables: [
        {
          table: 'users',
          id: 'id',
          tenant: 'org_id',
          context: ({ tenant }) => ({ organization_id: tenant! }),
          columns: { ssn: 'text', photo: 'bytes' },
        },
      ],
    }).forTenant('org_1');
    const bytes = new TextEncoder().encode(secret);
    const rows = [
      { id: 1, org_id: 'org_1', photo: secret }, // a string in a bytes column
      { id: 2, org_id: 'org_1', ssn: bytes }, // bytes in a text column
      { id: 3, org_id: 'org_2', ssn: secret }, // another tenant's plaintext
    ];
    const e = await caught(lenient.decrypt('users', rows));
    expect(RowDecryptionError.is(e)).toBe(true);
    expectClean(e, secret);
    expectClean(await caught(lenient.decrypt('users', { id: 1, ssn: secret })), secret);
    await lenient.decrypt('users', [{ id: 4, org_id: 'org_1', ssn: secret, photo: bytes }]);
    expect(reads).toHaveLength(2);
    const shown = reads.map((r) => `${JSON.stringify(r)} ${inspect(r, { showHidden: true })}`).join('\n');
    for (const f of fragments(secret)) expect(shown.includes(f), `shows ${f}`).toBe(false);
  });
});
