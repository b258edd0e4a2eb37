/**
 * Finds the TypeScript code blocks of the hand-written documentation and composes each with its
 * preludes into one module, so that `docs.test.ts` can type-check it and, when it is marked
 * `runnable`, run it. The conventions are described in `docs.test.ts`'s header; this module
 * only parses them, strictly: an unknown flag, an unknown prelude or a prelude comment that is
 * not followed by a TypeScript block is an error, not something to ignore.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (with a trailing slash). */
export const ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

/** Where the prelude files live. */
export const PRELUDE_DIR: string = fileURLToPath(new URL('./preludes/', import.meta.url));

/** The line in a prelude file that separates what goes before a block from what goes after. */
export const BLOCK_MARKER = '// ---- block ----';

const LANGUAGES = new Set(['ts', 'typescript']);
const FLAGS = new Set(['runnable', 'nocheck']);

/** One fenced TypeScript block of a Markdown page. */
export interface Block {
  /** The page, relative to the repository root (`docs/getting-started.md`). */
  file: string;
  /** The 1-based line of the page on which the block's first line of code is. */
  line: number;
  /** `runnable`: transpiled and run against the local server; `nocheck`: not type-checked. */
  flags: ReadonlySet<string>;
  /** The names of the preludes from the comment before the block, in order. */
  preludes: readonly string[];
  /** The code, with the fence's indentation removed. */
  code: string;
  /** `file:line`, for test names and messages. */
  where: string;
}

/** A block composed with its preludes: one module's source text. */
export interface Composed {
  source: string;
  /** The 1-based line of `source` on which the block's first line is. */
  firstLine: number;
  /** How many lines the block has. */
  lines: number;
}

/** The pages whose blocks are checked: README.md, docs/*.md (not docs/api), packages/*\/README.md. */
export function pages(): string[] {
  const docs = readdirSync(`${ROOT}docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const packages = readdirSync(`${ROOT}packages`)
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(`${ROOT}${f}`));
  return ['README.md', ...docs.sort(), ...packages.sort()];
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const PRELUDE_COMMENT = /^\s*<!--\s*prelude:\s*(.*?)\s*-->\s*$/;

/**
 * The TypeScript blocks of one page.
 * @param file - A page, relative to the repository root.
 * @returns Its blocks, in order.
 * @throws Error for a malformed convention (see {@link blocksIn}).
 */
export function blocksOf(file: string): Block[] {
  return blocksIn(file, readFileSync(`${ROOT}${file}`, 'utf8'));
}

/**
 * The TypeScript blocks of a page's text.
 * @param file - The page's name, for `where` and messages.
 * @param markdown - The page's text.
 * @returns Its blocks, in order.
 * @throws Error for a malformed convention: an unknown flag, `runnable` with `nocheck`, a prelude
 *   comment not directly before a TypeScript block, an unclosed fence.
 */
export function blocksIn(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let pending: { names: string[]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const comment = PRELUDE_COMMENT.exec(text);
    if (comment) {
      if (pending) throw new Error(`${file}:${pending.line}: a prelude comment with no block after it`);
      const names = comment[1]!.split(',').map((n) => n.trim());
      if (names.some((n) => !/^[a-z0-9-]+$/.test(n))) {
        throw new Error(`${file}:${i + 1}: prelude names are lowercase words with dashes, comma-separated`);
      }
      pending = { names, line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (pending && text.trim() !== '') {
        throw new Error(`${file}:${pending.line}: a prelude comment must come right before its block`);
      }
      continue;
    }
    const [, indent = '', marker = '', info = ''] = fence;
    const [lang = '', ...words] = info.trim().split(/\s+/);
    // Find the closing fence: the same character, at least as long, nothing after it.
    let end = i + 1;
    while (end < lines.length) {
      const close = lines[end]!.trim();
      if (close.startsWith(marker) && /^(`+|~+)$/.test(close) && close[0] === marker[0]) break;
      end++;
    }
    if (end === lines.length) throw new Error(`${file}:${i + 1}: a code fence that never closes`);
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    if (LANGUAGES.has(lang.toLowerCase())) {
      const unknown = words.filter((w) => !FLAGS.has(w));
      if (unknown.length > 0) {
        throw new Error(`${file}:${i + 1}: unknown flag ${unknown.join(', ')} (known: runnable, nocheck)`);
      }
      const flags = new Set(words);
      if (flags.has('runnable') && flags.has('nocheck')) {
        throw new Error(`${file}:${i + 1}: a block can not be both runnable and nocheck`);
      }
      if (flags.has('nocheck') && pending) {
        throw new Error(`${file}:${i + 1}: a nocheck block needs no prelude`);
      }
      blocks.push({
        file,
        line: i + 2,
        flags,
        preludes: pending?.names ?? [],
        code: body.join('\n'),
        where: `${file}:${i + 2}`,
      });
    } else if (pending) {
      throw new Error(`${file}:${pending.line}: a prelude comment before a block that is not TypeScript`);
    }
    pending = undefined;
    i = end;
  }
  if (pending) throw new Error(`${file}:${pending.line}: a prelude comment with no block after it`);
  return blocks;
}

/** The prelude files by name (`docs/test/preludes/<name>.ts`). */
export function preludeNames(): string[] {
  return readdirSync(PRELUDE_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function prelude(name: string): { head: string; tail: string } {
  const path = `${PRELUDE_DIR}${name}.ts`;
  if (!existsSync(path)) throw new Error(`no prelude named ${name} (looked for ${path})`);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(`\n${BLOCK_MARKER}\n`);
  if (at === -1) return { head: text.endsWith('\n') ? text : `${text}\n`, tail: '' };
  return { head: text.slice(0, at + 1), tail: text.slice(at + BLOCK_MARKER.length + 2) };
}

/**
 * A block with its preludes: every prelude's head in order, the block, then their tails in
 * reverse order (as nested scopes close).
 * @param block - The block.
 * @returns The module's source and where the block sits in it.
 */
export function compose(block: Block): Composed {
  const parts = block.preludes.map(prelude);
  const head = parts.map((p) => p.head).join('');
  const tail = parts
    .map((p) => p.tail)
    .reverse()
    .join('');
  const firstLine = head.split('\n').length;
  return {
    source: `${head}${block.code}\n${tail}`,
    firstLine,
    lines: block.code.split('\n').length,
  };
}
