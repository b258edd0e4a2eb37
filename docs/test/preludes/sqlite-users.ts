// `db`, an in-memory better-sqlite3 database with a `users` table; `user`, a row to store; `id`,
// the row a request handler reads; `session`, that request's authenticated session (`orgId`, the
// tenant); `User`, the row's type. After the block: the stored row holds
// ciphertexts, and the block's `plain` holds the plaintexts again.
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
const user: User = { id: 42, name: 'Ada Lovelace', ssn: '123-45-6789', dob: '1815-12-10', email: null };
const id = user.id;
const session = { orgId: 'org_123' };
// ---- block ----
{
  const onDisk = db.prepare<[number], User>('SELECT * FROM users WHERE id = ?').get(user.id);
  if (onDisk === undefined) throw new Error('the block stored no row');
  if (onDisk.ssn === user.ssn || onDisk.dob === user.dob) throw new Error('a field was stored in the clear');
  if (plain.ssn !== user.ssn || plain.dob !== user.dob) throw new Error('the fields did not round-trip');
  db.close();
}
