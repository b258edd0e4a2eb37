/**
 * A check of the tarball check: packs small synthetic packages (a good one, then one broken in
 * each way the rules forbid) with a minimal ustar writer, and proves that the good one passes and
 * that every fault is reported. Without it, a rule that silently stopped matching (a changed
 * path, a wrong regular expression) would let a bad tarball through while the check stayed green.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkTarball, readTarball } from './_tarball.mjs';

/** A gzipped ustar archive of `files` (path -> text) under `package/`, as packers write it. */
function tarball(files) {
  const blocks = [];
  for (const [path, text] of Object.entries(files)) {
    const body = Buffer.from(text, 'utf8');
    const header = Buffer.alloc(512);
    header.write(`package/${path}`, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const GITHUB = 'https://github.com/vault-envelope/vault-envelope';
const EXPECTED = {
  name: '@vault-envelope/demo',
  repository: `git+${GITHUB}.git`,
  directory: 'packages/demo',
  homepage: `${GITHUB}/tree/main/packages/demo#readme`,
  bugs: `${GITHUB}/issues`,
};
const MANIFEST = {
  name: EXPECTED.name,
  version: '0.1.0',
  license: 'MIT',
  type: 'module',
  exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
  repository: { type: 'git', url: EXPECTED.repository, directory: EXPECTED.directory },
  homepage: EXPECTED.homepage,
  bugs: { url: EXPECTED.bugs },
  dependencies: { '@vault-envelope/core': '^0.1.0' },
};
const GOOD = {
  'package.json': JSON.stringify(MANIFEST),
  LICENSE: 'MIT License\n\nCopyright (c) 2026 vault-envelope contributors\n',
  'README.md': `# demo\n\n\`\`\`sh\nnpm install ${EXPECTED.name}\n\`\`\`\n\nSee [the docs](${GITHUB}/blob/main/docs/format.md).\n`,
  'dist/index.js': 'export const x = 1;\n//# sourceMappingURL=index.js.map',
  'dist/index.js.map': JSON.stringify({
    version: 3,
    file: 'index.js',
    sources: ['../src/index.ts'],
    mappings: '',
  }),
  'dist/index.d.ts': 'export declare const x = 1;\n//# sourceMappingURL=index.d.ts.map',
  'dist/index.d.ts.map': JSON.stringify({
    version: 3,
    file: 'index.d.ts',
    sources: ['../src/index.ts'],
    mappings: '',
  }),
  'src/index.ts': 'export const x = 1;\n',
};

/** Each fault: what changes in the good package, and a pattern the reported problems must match. */
const FAULTS = [
  ['build info in dist', { 'dist/.tsbuildinfo': '{}' }, /TypeScript build info/],
  ['a test file', { 'dist/index.test.js': '' }, /a test file/],
  ['a test directory', { 'test/x.js': '' }, /a test directory/],
  ['no LICENSE', { LICENSE: null }, /missing LICENSE/],
  ['another licence text', { LICENSE: 'ISC License\n' }, /LICENSE is not the MIT text/],
  [
    'a map whose source is not shipped',
    { 'src/index.ts': null },
    /source \.\.\/src\/index\.ts .* is not in the tarball/,
  ],
  [
    'a map with an absolute source',
    { 'dist/index.js.map': JSON.stringify({ version: 3, sources: ['/home/ci/src/index.ts'], mappings: '' }) },
    /is absolute/,
  ],
  [
    'a sourceMappingURL to no map',
    { 'dist/index.js.map': null },
    /sourceMappingURL index\.js\.map is not in the tarball/,
  ],
  [
    'an exports target not shipped',
    { 'dist/index.d.ts': null, 'dist/index.d.ts.map': null },
    /manifest points to dist\/index\.d\.ts/,
  ],
  [
    'a workspace: dependency',
    {
      'package.json': JSON.stringify({
        ...MANIFEST,
        dependencies: { '@vault-envelope/core': 'workspace:^' },
      }),
    },
    /dependencies\.@vault-envelope\/core is "workspace:\^"/,
  ],
  [
    'a placeholder repository',
    {
      'package.json': JSON.stringify({
        ...MANIFEST,
        repository: { type: 'git', url: 'https://example.invalid/x.git' },
      }),
    },
    /repository\.url is https:\/\/example\.invalid/,
  ],
  [
    'a relative README link',
    { 'README.md': `npm install ${EXPECTED.name}\n[format](../../docs/format.md)\n` },
    /relative link \.\.\/\.\.\/docs\/format\.md/,
  ],
  [
    'a workspace-only command in the README',
    { 'README.md': `npm install ${EXPECTED.name}\n\`pnpm --filter x start\`\n` },
    /pnpm --filter/,
  ],
  ['no npm install line', { 'README.md': `pnpm add ${EXPECTED.name}\n` }, /no `npm install/],
];

/**
 * Runs the self-test in `dir`.
 * @param {string} dir - A scratch directory for the synthetic tarballs.
 * @returns {string[]} One line saying what was proven.
 * @throws {Error} Listing every rule that failed to fire, or the good package's problems.
 */
export function selfTest(dir) {
  const check = (name, files) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.tgz`);
    writeFileSync(file, tarball(files));
    return checkTarball(readTarball(file), EXPECTED).problems;
  };
  const errors = [];
  const good = check('good', GOOD);
  if (good.length > 0) errors.push(`the good package was refused: ${good.join('; ')}`);
  for (const [name, change, pattern] of FAULTS) {
    const files = { ...GOOD, ...change };
    for (const [path, text] of Object.entries(change)) if (text === null) delete files[path];
    const problems = check(name, files);
    if (!problems.some((p) => pattern.test(p))) {
      errors.push(`${name}: not reported (got: ${problems.join('; ') || 'nothing'})`);
    }
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return [`a good synthetic package passes; each of ${FAULTS.length} faults is reported`];
}
