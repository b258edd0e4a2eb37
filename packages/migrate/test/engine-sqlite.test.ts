import { engineSuite } from './_suite.js';
import { openSqlite } from './_db.js';

engineSuite('SQLite', openSqlite);
