/**
 * The parser of the documentation conventions (`_blocks.ts`), on small pages written here: what
 * counts as a TypeScript block, how flags and preludes are read, and the mistakes it refuses.
 * @module
 */
import { describe, expect, test } from 'vitest';
import { blocksIn, compose } from './_blocks.js';

const page = (...lines: string[]) => lines.join('\n');
const F = '```';

describe('blocksIn', () => {
  test('finds ts and typescript blocks with their flags, preludes and page lines; skips the others', () => {
    const blocks = blocksIn(
      'x.md',
      page(
        '# Title',
        `${F}sh`,
        'pnpm demo',
        F,
        '<!-- prelude: imports, vault -->',
        `${F}ts runnable`,
        'const a = 1;',
        F,
        `${F}typescript nocheck`,
        'f(x, { y? })',
        F,
        `${F}diff`,
        '+ const b = 2;',
        F,
        '- a list item:',
        '',
        `  ${F}ts`,
        '  const c = 3;',
        '    const d = 4;',
        `  ${F}`,
      ),
    );
    expect(blocks.map((b) => [b.where, [...b.flags], b.preludes, b.code])).toEqual([
      ['x.md:7', ['runnable'], ['imports', 'vault'], 'const a = 1;'],
      ['x.md:10', ['nocheck'], [], 'f(x, { y? })'],
      ['x.md:18', [], [], 'const c = 3;\n  const d = 4;'],
    ]);
  });

  test('a longer fence holds shorter ones: a ts block shown inside a markdown example is not a block', () => {
    const blocks = blocksIn('x.md', page('````md', `${F}ts`, 'nope', F, '````', `${F}ts`, 'yes', F));
    expect(blocks.map((b) => b.code)).toEqual(['yes']);
  });

  test.each([
    ['an unknown flag', page(`${F}ts runable`, 'x', F), /x\.md:1: unknown flag runable/],
    ['runnable and nocheck', page(`${F}ts runnable nocheck`, 'x', F), /both runnable and nocheck/],
    [
      'a prelude on a nocheck block',
      page('<!-- prelude: a -->', `${F}ts nocheck`, 'x', F),
      /needs no prelude/,
    ],
    [
      'a prelude before a non-TypeScript block',
      page('<!-- prelude: a -->', `${F}sh`, 'x', F),
      /not TypeScript/,
    ],
    [
      'text between a prelude and its block',
      page('<!-- prelude: a -->', 'words', `${F}ts`, 'x', F),
      /right before/,
    ],
    [
      'a prelude comment at the end',
      page(`${F}ts`, 'x', F, '<!-- prelude: a -->'),
      /x\.md:4: .*no block after/,
    ],
    [
      'two prelude comments in a row',
      page('<!-- prelude: a -->', '<!-- prelude: b -->', `${F}ts`, F),
      /no block/,
    ],
    ['a bad prelude name', page('<!-- prelude: A B -->', `${F}ts`, 'x', F), /lowercase words/],
    ['a fence that never closes', page(`${F}ts`, 'x'), /x\.md:1: a code fence that never closes/],
  ])('refuses %s', (_, markdown, message) => {
    expect(() => blocksIn('x.md', markdown)).toThrow(message);
  });

  test('a blank line between the prelude comment and the fence is allowed', () => {
    const [b] = blocksIn('x.md', page('<!-- prelude: vault -->', '', `${F}ts`, 'x', F));
    expect(b?.preludes).toEqual(['vault']);
  });
});

describe('compose', () => {
  test('puts prelude heads before the block and their tails after it, in reverse order', () => {
    const [b] = blocksIn('x.md', page('<!-- prelude: imports, vector -->', `${F}ts`, 'const info = 1;', F));
    const { source, firstLine, lines } = compose(b!);
    const all = source.split('\n');
    expect(all[firstLine - 1]).toBe('const info = 1;');
    expect(lines).toBe(1);
    expect(source.indexOf("from '@vault-envelope/cache'")).toBeLessThan(source.indexOf('const ciphertext'));
    expect(source.indexOf('const info = 1;')).toBeLessThan(source.indexOf("info.format !== 'A'"));
    expect(source).not.toContain('---- block ----');
  });

  test('an unknown prelude is an error that names it', () => {
    const [b] = blocksIn('x.md', page('<!-- prelude: no-such-prelude -->', `${F}ts`, 'x', F));
    expect(() => compose(b!)).toThrow(/no prelude named no-such-prelude/);
  });
});
