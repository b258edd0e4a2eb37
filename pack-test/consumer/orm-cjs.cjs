/**
 * The CommonJS entry of the ORM run-time check: the installed integrations, which are ESM-only,
 * loaded with `require()` (Node >= 20.19).
 * @module
 */
'use strict';

const ormScenario = require('./orm-scenario.cjs');

ormScenario({
  core: require('@vault-envelope/core'),
  ormCore: require('@vault-envelope/orm-core'),
  drizzle: require('@vault-envelope/drizzle'),
  drizzleSqlite: require('@vault-envelope/drizzle/sqlite-core'),
  kysely: require('@vault-envelope/kysely'),
  Database: require('better-sqlite3'),
  drizzleBetterSqlite: require('drizzle-orm/better-sqlite3'),
  drizzleSqliteCore: require('drizzle-orm/sqlite-core'),
  kyselyLib: require('kysely'),
}).then(
  (lines) => {
    for (const line of lines) console.log(line);
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
