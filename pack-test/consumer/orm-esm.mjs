/**
 * The ESM entry of the ORM run-time check: the installed integrations loaded with `import`.
 * @module
 */
import * as core from '@vault-envelope/core';
import * as drizzle from '@vault-envelope/drizzle';
import * as drizzleSqlite from '@vault-envelope/drizzle/sqlite-core';
import * as kysely from '@vault-envelope/kysely';
import * as ormCore from '@vault-envelope/orm-core';
import Database from 'better-sqlite3';
import * as drizzleBetterSqlite from 'drizzle-orm/better-sqlite3';
import * as drizzleSqliteCore from 'drizzle-orm/sqlite-core';
import * as kyselyLib from 'kysely';
import ormScenario from './orm-scenario.cjs';

const lines = await ormScenario({
  core,
  ormCore,
  drizzle,
  drizzleSqlite,
  kysely,
  Database,
  drizzleBetterSqlite,
  drizzleSqliteCore,
  kyselyLib,
});
for (const line of lines) console.log(line);
