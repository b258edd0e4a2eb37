/**
 * The documentation's TypeScript is checked: every ```ts (or ```typescript) block of README.md,
 * docs/*.md (not the generated docs/api) and packages/*\/README.md is type-checked with the
 * workspace's TypeScript and the repository's compiler settings, and the blocks marked
 * `runnable` also run, as child processes, against the local server.
 *
 * The conventions, for whoever writes a page:
 *
 * - A block is compiled as a module of its own, as a file of a user's application would be:
 *   imports of `@vault-envelope/*` resolve to the built packages (`pnpm run build` first; `pnpm
 *   test` does it), and `better-sqlite3` to its published types. Node's types are available.
 * - A block that stays short on purpose (it uses `envelope`, `db` or `user` without saying where
 *   they come from) names its hidden preludes in an HTML comment right before the fence (blank
 *   lines between are allowed, text is not), which GitHub and npm do not display:
 *
 *       <!-- prelude: envelope, sqlite-users -->
 *       ```ts
 *
 *   Each name is a file `docs/test/preludes/<name>.ts`: real code that declares what the block
 *   uses, with real types. Its text goes before the block; if it holds the line
 *   `// ---- block ----`, what follows that line goes after the block (to check a runnable
 *   block's outcome). Several preludes are joined in the order given. Preludes are not exported
 *   modules but text spliced around the block, so a prelude must not import a name its block
 *   imports too (TypeScript reports the duplicate).
 * - ```ts runnable: the composed module is transpiled (`transpileModule`: Node 20 does not strip
 *   types) and run with Node, with `WORKOS_API_KEY` and `VAULT_BASE_URL` set to a local server
 *   this test starts through its command line (in memory, on a port the system picks). It must
 *   exit with code 0 within 30 s; a block that reads `VAULT_BASE_URL` must also have sent that
 *   server a request.
 * - ```ts nocheck: a block that can not compile on purpose (a pseudo-signature, an excerpt). It
 *   is counted, and still compiled once, alone (no prelude): a nocheck block that compiles
 *   without error fails the test, so that the mark is dropped when it is no longer needed.
 *
 * The same pages and the examples are also kept free of words that mean nothing to a user (an
 * issue number, the internal notes) and of `pnpm server --...`, which pnpm 10 answers with its
 * own built-in command.
 *
 * Everything else fails loudly: a block that does not type-check, an unknown flag, an unknown or
 * unused prelude, a prelude comment that is not right before a TypeScript block.
 * @module
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Block, blocksOf, compose, PRELUDE_DIR, pages, preludeNames, ROOT } from './_blocks.js';
import { type Problem, TYPESCRIPT_VERSION, transpile, typeCheck } from './_check.js';

const run = promisify(execFile);

const blocks: Block[] = pages().flatMap(blocksOf);
const checked = blocks.filter((b) => !b.flags.has('nocheck'));
const runnable = blocks.filter((b) => b.flags.has('runnable'));
const nocheck = blocks.filter((b) => b.flags.has('nocheck'));

/** A module name per block, stable and readable in messages: `docs-getting-started-md-36.ts`. */
const nameOf = (b: Block) => `${b.file.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${b.line}.ts`;

/** Where each problem is, in the page when it is in the block, else in a prelude. */
function located(b: Block, problems: readonly Problem[]): string[] {
  const { firstLine, lines } = compose(b);
  return problems.map((p) => {
    const inBlock = p.line >= firstLine && p.line < firstLine + lines;
    const where = inBlock
      ? `${b.file}:${b.line + p.line - firstLine}`
      : `${b.where} (line ${p.line} of it with preludes ${b.preludes.join(', ')})`;
    return `${where}: TS${p.code} ${p.message}`;
  });
}

let results: Map<string, Problem[]>;

beforeAll(() => {
  const sources = new Map<string, string>();
  for (const b of blocks) sources.set(nameOf(b), b.flags.has('nocheck') ? b.code : compose(b).source);
  results = typeCheck(sources);
});

describe(`documentation blocks (TypeScript ${TYPESCRIPT_VERSION}): ${blocks.length} TypeScript blocks, ${checked.length} type-checked, ${runnable.length} run, ${nocheck.length} nocheck`, () => {
  test('the pages and blocks the conventions promise are there', () => {
    const files = new Set(blocks.map((b) => b.file));
    for (const f of ['README.md', 'docs/getting-started.md', 'packages/core/README.md']) {
      expect(files, f).toContain(f);
    }
    // The two walkthroughs a new user copies first are run, not only type-checked.
    const runs = (file: string) => runnable.filter((b) => b.file === file).length;
    expect(runs('README.md')).toBeGreaterThanOrEqual(1);
    expect(runs('docs/getting-started.md')).toBeGreaterThanOrEqual(2);
    expect(
      blocks.every((b) => b.code.trim() !== ''),
      'an empty block',
    ).toBe(true);
  });

  test('every prelude file is used by a block and starts with a comment saying what it declares', () => {
    const used = new Set(blocks.flatMap((b) => b.preludes));
    expect(preludeNames().filter((n) => !used.has(n))).toEqual([]);
    const undocumented = preludeNames().filter(
      (n) => !readFileSync(`${PRELUDE_DIR}${n}.ts`, 'utf8').startsWith('// '),
    );
    expect(undocumented).toEqual([]);
  });

  test('the program itself has no configuration problem', () => {
    expect(results.get('')).toEqual([]);
  });

  test.each(checked.map((b) => [b.where, b] as const))('%s type-checks', (_, b) => {
    expect(located(b, results.get(nameOf(b)) ?? [])).toEqual([]);
  });

  test.each(nocheck.map((b) => [b.where, b] as const))('%s (nocheck) indeed does not compile', (_, b) => {
    expect(results.get(nameOf(b))?.length ?? 0, 'it compiles: drop the nocheck mark').toBeGreaterThan(0);
  });
});

describe('words a reader can act on', () => {
  // What a user reads: the pages above, the examples and the browser-test guide.
  const files = [
    ...pages(),
    'browser-tests/README.md',
    ...readdirSync(`${ROOT}examples`)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => `examples/${f}`),
  ];
  const lines = files.flatMap((file) =>
    readFileSync(`${ROOT}${file}`, 'utf8')
      .split('\n')
      .map((text, i) => ({ at: `${file}:${i + 1}`, text })),
  );
  const offending = (pattern: RegExp) =>
    lines.filter((l) => pattern.test(l.text)).map((l) => `${l.at}: ${l.text}`);

  test.each([
    ['a numbered issue of the project', /\bissues? #?\d+/i],
    ['a path to the internal notes', /\.\.\/shared\b/],
    ['an internal document by name', /\b(architecture|vault-api|ciphertext-format|house-style)\.md\b/],
    ['"the seed" for the older route names', /\bseed's\b|\bseed (routes|endpoints?|compatibility)\b/i],
  ])('no page or example mentions %s', (_, pattern) => {
    expect(offending(pattern)).toEqual([]);
  });

  test('no page tells the reader to run `pnpm server` with options: pnpm 10 runs its own command', () => {
    expect(offending(/\bpnpm server\s+--/)).toEqual([]);
  });
});

/**
 * The local server as a user starts it: its command-line entry point, in memory, on a port the
 * system picks, without rate limit. Its first output line is its URL; then it logs one line per
 * request, which is how the test counts a block's requests.
 */
async function startLocalServer(
  apiKey: string,
): Promise<{ url: string; requests(): number; stop(): Promise<void> }> {
  const bin = `${ROOT}packages/server/bin/vault-envelope-server.js`;
  const args = [bin, '--port', '0', '--memory', '--api-key', apiKey, '--rate-limit', '0'];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let requests = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the local server exited with ${code} before printing its URL`)),
    );
    lines.on('line', (line) => {
      if (/^http:\/\/127\.0\.0\.1:\d+$/.test(line)) resolve(line);
      else if (/ (GET|POST|PUT|DELETE) \/vault\//.test(line)) requests++;
    });
  });
  return {
    url,
    requests: () => requests,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('runnable blocks, against the local server', () => {
  let server: Awaited<ReturnType<typeof startLocalServer>>;
  let dir: string;
  const apiKey = 'sk_docs_test';

  beforeAll(async () => {
    server = await startLocalServer(apiKey);
    // The transpiled blocks run from a temporary directory whose node_modules is the examples
    // package's: the four packages (built) and better-sqlite3, resolved as for a user.
    dir = mkdtempSync(join(tmpdir(), 'vault-envelope-docs-'));
    symlinkSync(`${ROOT}examples/node_modules`, join(dir, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(runnable.map((b) => [b.where, b] as const))('%s runs and exits 0', async (_, b) => {
    const { source } = compose(b);
    const file = join(dir, nameOf(b).replace(/\.ts$/, '.mjs'));
    writeFileSync(file, transpile(source, nameOf(b)));
    const before = server.requests();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      WORKOS_API_KEY: apiKey,
      VAULT_BASE_URL: server.url,
    };
    const outcome = await run(process.execPath, [file], { cwd: dir, env, timeout: 30_000 }).then(
      () => 'exit 0',
      (e: { code?: number; signal?: string; stderr?: string }) =>
        `exit ${e.code ?? e.signal}: ${String(e.stderr ?? '').slice(0, 2000)}`,
    );
    expect(outcome).toBe('exit 0');
    // The access log line of a request may arrive a moment after the block's process ended.
    if (source.includes('VAULT_BASE_URL')) await expect.poll(() => server.requests()).toBeGreaterThan(before);
  });
});
