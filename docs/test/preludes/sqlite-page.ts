// `db`, an in-memory better-sqlite3 database with an empty `users` table; `users`, a page of rows
// to store (three of them, one with no email); `session`, the request's authenticated session
// (`orgId`, the tenant); `User`, the row's type. After the block: every stored row holds
// ciphertexts, and the block's `plain` holds the page's plaintexts again, in order.
import Database from 'better-sqlite3';

/** A row of `users`: `ssn`, `dob` and `email` hold ciphertexts once stored. */
interface User {
  id: number;
  name: string | null;
  ssn: string;
  dob: string;
  email: string | null;
}
const db = new Database(':memory:');
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, ssn TEXT, dob TEXT, email TEXT)');
const users: User[] = [
  { id: 1, name: 'Ada Lovelace', ssn: '123-45-6789', dob: '1815-12-10', email: 'ada@example.com' },
  { id: 2, name: 'Grace Hopper', ssn: '987-65-4321', dob: '1906-12-09', email: null },
  { id: 3, name: 'Alan Turing', ssn: '555-12-3456', dob: '1912-06-23', email: 'alan@example.com' },
];
const session = { orgId: 'org_123' };
// ---- block ----
{
  const onDisk = db.prepare<[], User>('SELECT * FROM users ORDER BY id').all();
  if (onDisk.length !== users.length) throw new Error('the block did not store the page');
  for (const [i, row] of onDisk.entries()) {
    if (row.ssn === users[i]!.ssn || row.dob === users[i]!.dob) throw new Error('a field was stored in the clear');
  }
  if (JSON.stringify(plain) !== JSON.stringify(users)) throw new Error('the page did not round-trip');
  db.close();
}
