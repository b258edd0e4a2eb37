/**
 * What a published tarball must and must not hold, read from the `.tgz` itself (not from the
 * workspace, not from an install), so that what is checked is exactly what a registry would
 * serve. A small reader of gzipped ustar/pax archives (the format `pnpm pack` and `npm pack`
 * write) keeps the check free of dependencies and of the system's `tar`.
 *
 * The rules: a LICENSE, a README and every file the manifest points to are there; no build info,
 * no tests, no workspace-only dependency specifiers; every source map resolves every one of its
 * `sources` inside the tarball, and every `sourceMappingURL` names a map that is there; the README
 * works on the registry page (no relative links, which point nowhere there, no workspace-only
 * commands, an `npm install` line).
 * @module
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

/** The NUL-terminated string in `buf[start, start + length)`. */
function field(buf, start, length) {
  const bytes = buf.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** `path=` (and other) records of a pax extended header: `"<len> <key>=<value>\n"` repeated. */
function paxRecords(body) {
  const records = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq !== -1) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

/**
 * Reads every regular file of a `.tgz` made by `pnpm pack`/`npm pack`.
 * @param {string} file - Path of the tarball.
 * @returns {Map<string, Buffer>} File contents by path inside the package (the `package/` prefix removed).
 * @throws {Error} When the archive is not a gzipped tar or holds a path outside `package/`.
 */
export function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map();
  let at = 0;
  let pax = {};
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const body = tar.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      pax = paxRecords(body);
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 345, 155);
    const name = pax.path ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    pax = {};
    if (type !== '0' && type !== '\0') continue; // directories; packers write no links
    if (!name.startsWith('package/')) throw new Error(`${file}: entry outside package/: ${name}`);
    files.set(name.slice('package/'.length), Buffer.from(body));
  }
  return files;
}

/** Paths no published package should hold. */
const FORBIDDEN = [
  [/(^|\/)[^/]*\.tsbuildinfo$/, 'TypeScript build info'],
  [/(^|\/)(test|tests|__tests__|__mocks__|fixtures)\//, 'a test directory'],
  [/\.(test|spec|bench)\.[cm]?[jt]sx?$/, 'a test file'],
  [/(^|\/)tsconfig(\.[^/]*)?\.json$/, 'a tsconfig'],
  [/(^|\/)\.vault-data\//, 'local server data'],
  [/(^|\/)node_modules\//, 'node_modules'],
  [/(^|\/)\.DS_Store$|\.log$/, 'a stray file'],
];

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

/** Every target string of an `exports` map. */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/** A path inside the package, from a manifest entry like `./dist/index.js`. */
function inside(target) {
  return posix.normalize(target).replace(/^\.\//, '');
}

/**
 * Checks the contents of one packed package.
 * @param {Map<string, Buffer>} files - From {@link readTarball}.
 * @param {{ name: string, repository: string, bugs: string, homepage: string }} expected - Manifest values it must carry.
 * @returns {{ problems: string[], facts: string[] }} What is wrong (empty when all holds), and what was verified.
 */
export function checkTarball(files, expected) {
  const problems = [];
  const facts = [];
  const has = (path) => files.has(path);
  const text = (path) => files.get(path)?.toString('utf8') ?? '';

  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!has(required)) problems.push(`missing ${required}`);
  }
  const license = text('LICENSE');
  if (
    !/^MIT License\b/.test(license) ||
    !license.includes('Copyright (c) 2026 vault-envelope contributors')
  ) {
    problems.push('LICENSE is not the MIT text with "Copyright (c) 2026 vault-envelope contributors"');
  }

  let pkg = {};
  try {
    pkg = JSON.parse(text('package.json'));
  } catch {
    problems.push('package.json does not parse');
  }
  if (pkg.name !== expected.name)
    problems.push(`package.json name is ${pkg.name}, expected ${expected.name}`);
  if (pkg.license !== 'MIT') problems.push(`license is ${pkg.license}, expected MIT`);
  if (pkg.repository?.url !== expected.repository) problems.push(`repository.url is ${pkg.repository?.url}`);
  if (pkg.repository?.directory !== expected.directory) {
    problems.push(`repository.directory is ${pkg.repository?.directory}`);
  }
  if (pkg.homepage !== expected.homepage) problems.push(`homepage is ${pkg.homepage}`);
  if ((pkg.bugs?.url ?? pkg.bugs) !== expected.bugs) problems.push(`bugs is ${JSON.stringify(pkg.bugs)}`);
  for (const kind of DEPENDENCY_FIELDS) {
    for (const [dep, spec] of Object.entries(pkg[kind] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(spec)) problems.push(`${kind}.${dep} is "${spec}"`);
    }
  }

  const targets = [
    ...exportTargets(pkg.exports),
    ...[pkg.main, pkg.types, pkg.module].filter((t) => typeof t === 'string'),
    ...Object.values(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {})),
  ];
  for (const target of new Set(targets.map(inside))) {
    if (!has(target)) problems.push(`manifest points to ${target}, which is not in the tarball`);
  }

  for (const path of files.keys()) {
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(path)) problems.push(`${path}: ${what}`);
    }
  }

  // Source maps: every map's sources resolve inside the tarball, and every file that names a map
  // has it.
  let maps = 0;
  let sources = 0;
  for (const [path, body] of files) {
    if (path.endsWith('.map')) {
      maps++;
      let map;
      try {
        map = JSON.parse(body.toString('utf8'));
      } catch {
        problems.push(`${path}: not JSON`);
        continue;
      }
      if (!Array.isArray(map.sources) || map.sources.length === 0) {
        problems.push(`${path}: no sources`);
        continue;
      }
      const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
      for (const source of map.sources) {
        sources++;
        if (
          /^[a-z][a-z0-9+.-]*:/i.test(source) ||
          /^[a-z][a-z0-9+.-]*:/i.test(root) ||
          source.startsWith('/')
        ) {
          problems.push(`${path}: source ${source} is absolute (a path of the machine that built it)`);
          continue;
        }
        const resolved = posix.normalize(posix.join(posix.dirname(path), root, source));
        if (resolved.startsWith('../') || !has(resolved)) {
          problems.push(`${path}: source ${source} (${resolved}) is not in the tarball`);
        }
      }
      if (Array.isArray(map.sourcesContent) && map.sourcesContent.length > 0) {
        // Not a problem as such; noted, since sources are shipped beside the maps.
        facts.push(`${path} embeds sourcesContent`);
      }
    } else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(path)) {
      const match = /\/[/*][#@] sourceMappingURL=([^\s*]+)/.exec(body.toString('utf8'));
      if (match) {
        const url = match[1];
        if (url.startsWith('data:')) continue;
        const resolved = posix.normalize(posix.join(posix.dirname(path), url));
        if (!has(resolved)) problems.push(`${path}: sourceMappingURL ${url} is not in the tarball`);
      }
    }
  }
  facts.push(`${files.size} files, ${maps} source maps resolving ${sources} sources`);

  // The README as the registry page shows it.
  const readme = text('README.md');
  const links = [...readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
  for (const link of links) {
    if (!/^(https?:|mailto:|#)/.test(link))
      problems.push(`README.md: relative link ${link} points nowhere on the registry`);
  }
  if (/pnpm\s+(--filter|-F)\b/.test(readme))
    problems.push('README.md: a workspace-only `pnpm --filter` command');
  const install = new RegExp(`^npm (install|i) [^\\n]*${expected.name.replace('/', '\\/')}(?![\\w-])`, 'm');
  if (!install.test(readme)) problems.push(`README.md: no \`npm install ... ${expected.name}\` line`);
  facts.push(`README: ${links.length} links, all absolute`);
  return { problems, facts };
}
