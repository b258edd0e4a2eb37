// `pnpm example <name>`: runs one example by its short name, or lists them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const examples = {
  quickstart: 'quickstart.mjs',
  'field-encryption': 'field-encryption-sqlite.mjs',
  middleware: 'middleware.mjs',
  'key-rotation': 'key-rotation.mjs',
  'object-api': 'object-api.mjs',
  'multi-tenant': 'multi-tenant.mjs',
  drizzle: 'drizzle-sqlite.mjs',
  kysely: 'kysely-sqlite.mjs',
  demo: 'demo.mjs',
};
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !(name in examples)) {
  console.error(`usage: pnpm example <${Object.keys(examples).join('|')}> [args]`);
  process.exit(name === undefined ? 0 : 1);
}
const file = fileURLToPath(new URL(examples[name], import.meta.url));
const { status } = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
process.exit(status ?? 1);
