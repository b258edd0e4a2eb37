import { openSqlite } from './_db.js';
import { engineSuite } from './_suite.js';

engineSuite('SQLite', openSqlite);
