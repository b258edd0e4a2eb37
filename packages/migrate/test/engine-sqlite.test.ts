/** The engine suite (_suite.ts) on SQLite: a file per suite, and a second connection as the application. */
import { openSqlite } from './_db.js';
import { engineSuite } from './_suite.js';

engineSuite('SQLite', openSqlite);
