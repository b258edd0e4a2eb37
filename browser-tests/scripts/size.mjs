// @ts-check
/**
 * The bundle size check (`pnpm size`): builds each entry of `size-budget.json` with esbuild for
 * browsers, minified, gzips it (level 9) and fails when one is over its budget. Prints a table;
 * `--json` prints the figures as JSON instead.
 * @module
 */
import { readFileSync } from 'node:fs';
import { buildBundle } from './bundle.mjs';

/** @typedef {{ name: string, contents: string, gzipBytes: number }} BudgetEntry */

const budget = /** @type {{ entries: BudgetEntry[] }} */ (
  JSON.parse(readFileSync(new URL('../size-budget.json', import.meta.url), 'utf8'))
);

const rows = [];
for (const entry of budget.entries) {
  const b = await buildBundle({ contents: entry.contents, minify: true });
  rows.push({
    name: entry.name,
    bytes: b.bytes,
    gzipBytes: b.gzipBytes,
    budget: entry.gzipBytes,
    packages: b.packages,
  });
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'bundle'.padEnd(width)}  minified  min+gzip  budget`);
  for (const r of rows) {
    const mark = r.gzipBytes > r.budget ? '  OVER BUDGET' : '';
    console.log(
      `${r.name.padEnd(width)}  ${String(r.bytes).padStart(8)}  ${String(r.gzipBytes).padStart(8)}  ${String(r.budget).padStart(6)}${mark}`,
    );
  }
}
const over = rows.filter((r) => r.gzipBytes > r.budget);
if (over.length > 0) {
  console.error(`size: ${over.length} bundle(s) over budget: ${over.map((r) => r.name).join('; ')}`);
  process.exitCode = 1;
} else {
  console.log(`size: ${rows.length} bundles within budget`);
}
