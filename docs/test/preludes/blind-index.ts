// `db` with an `email_idx` column, and `rootKey`, 32 random bytes. After the block: a row stored
// under the index of one spelling of an address is found with another spelling.
import Database from 'better-sqlite3';

const db = new Database(':memory:');
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, email_idx TEXT)');
const rootKey = crypto.getRandomValues(new Uint8Array(32));
// ---- block ----
db.prepare('INSERT INTO users (email_idx) VALUES (?)').run(emailIndex.compute(' ada@example.com'));
if (db.prepare('SELECT id FROM users WHERE email_idx = ?').get(emailIndex.compute('ADA@example.COM')) === undefined) {
  throw new Error('the blind index did not find the row');
}
db.close();
