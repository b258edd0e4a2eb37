// `db`, an in-memory better-sqlite3 database whose `users` table assigns the ids; `user`, a row to
// store (its `id` is what the database will assign, unknown before the insert); `User`, the row's
// type. After the block: the row the database numbered holds ciphertexts, and the block's `plain`
// holds the plaintexts again.
import Database from 'better-sqlite3';

/** A row of `users`: `ssn` and `dob` hold ciphertexts once stored. */
interface User {
  id: number;
  name: string | null;
  ssn: string;
  dob: string;
  email: string | null;
}
const db = new Database(':memory:');
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, ssn TEXT, dob TEXT, email TEXT)');
db.prepare("INSERT INTO users (name) VALUES ('someone before')").run();
const user: Omit<User, 'id'> = { name: 'Ada Lovelace', ssn: '123-45-6789', dob: '1815-12-10', email: null };
// ---- block ----
{
  const onDisk = db.prepare<[string], User>('SELECT * FROM users WHERE name = ?').get('Ada Lovelace');
  if (onDisk === undefined || onDisk.id === 1) throw new Error('the block stored no row of its own id');
  if (onDisk.ssn === user.ssn || onDisk.dob === user.dob) throw new Error('a field was stored in the clear');
  if (plain.ssn !== user.ssn || plain.dob !== user.dob) throw new Error('the fields did not round-trip');
  db.close();
}
