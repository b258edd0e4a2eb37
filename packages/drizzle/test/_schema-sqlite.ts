// The test schema on SQLite: the demo's users table (with a bytes column and a text column
// stored as binary besides), posts for joins and relational queries, settings without tenants.
import { encryptedBytes, encryptedText } from '@vault-envelope/drizzle/sqlite-core';
import { relations } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  ssn: encryptedText('ssn'),
  dob: encryptedText('dob'),
  email: encryptedText('email'),
  emailIdx: text('email_idx'),
  photo: encryptedBytes('photo'),
  note: encryptedText('note', { storage: 'binary' }),
});

export const posts = sqliteTable('posts', {
  id: integer('id').primaryKey(),
  userId: integer('user_id').notNull(),
  orgId: text('org_id').notNull(),
  body: encryptedText('body'),
});

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: encryptedText('value'),
});

/** A table whose ids the database assigns. */
export const accounts = sqliteTable('accounts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  orgId: text('org_id').notNull(),
  secret: encryptedText('secret'),
});

export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
export const postsRelations = relations(posts, ({ one }) => ({
  author: one(users, { fields: [posts.userId], references: [users.id] }),
}));

export const ddl = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, ssn TEXT, dob TEXT, email TEXT, email_idx TEXT, photo BLOB, note BLOB)',
  'CREATE INDEX users_email_idx ON users (email_idx)',
  'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, org_id TEXT NOT NULL, body TEXT)',
  'CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)',
  'CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, secret TEXT)',
];
