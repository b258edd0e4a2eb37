/**
 * `pnpm test:pack`: the packages as a new user gets them from the registry. Builds, packs every
 * published package with `pnpm pack` (which turns `workspace:^` into real version ranges), checks
 * each tarball's contents, installs the tarballs with npm into a fresh project under the system's
 * temp directory (outside the workspace, so nothing resolves through the workspace's
 * `node_modules`), and there:
 *
 * - runs a scenario with every package loaded by ESM `import` and again by CommonJS `require()`
 *   (core encrypts and decrypts with the MemoryKeyProvider, the cache wraps it, the server starts
 *   on a free loopback port and answers the remote client, then stops);
 * - starts the installed `vault-envelope-server` bin, sends it one request and stops it;
 * - runs the installed `vault-envelope` bin (`--help`, and `inspect` of a ciphertext);
 * - type-checks consumers with the registry's TypeScript (the workspace's version unless
 *   `--typescript <version>`): node16 in an ESM package, bundler (with and without Node's
 *   types), and the ways a CommonJS package consumes these ESM-only packages (nodenext static
 *   imports, nodenext `import = require()` under `verbatimModuleSyntax`, node16 `import()`), the
 *   CommonJS ones compiled and run; node16 static imports in CommonJS must fail with TS1479.
 *
 * The tarball rules are first run against synthetic packages, a good one and one per fault, to
 * prove each rule still fires.
 *
 * Needs the npm registry, and compiles better-sqlite3 when no prebuilt binary can be fetched
 * (about a minute), so it is its own script and not part of `pnpm test`. Exits non-zero on any
 * failure; the temp directory is removed at the end unless `--keep`.
 *
 * Usage: `pnpm test:pack [--keep] [--typescript <version>] [--no-build]`
 * @module
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selfTest } from './_selftest.mjs';
import { checkTarball, readTarball } from './_tarball.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));
const PACKAGES = ['core', 'remote', 'cache', 'server', 'migrate', 'orm-core', 'drizzle', 'kysely'];
/** The ORM integrations' peers, at the versions their packages are tested with. */
const ORM_PEERS = (() => {
  const dev = (name) =>
    JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')).devDependencies;
  return { 'drizzle-orm': dev('drizzle')['drizzle-orm'], kysely: dev('kysely').kysely };
})();
const REPOSITORY = 'git+https://github.com/vault-envelope/vault-envelope.git';
const GITHUB = 'https://github.com/vault-envelope/vault-envelope';

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    typescript: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
  strict: true,
});

const workspaceRequire = createRequire(join(ROOT, 'package.json'));
const versionOf = (name) =>
  JSON.parse(readFileSync(workspaceRequire.resolve(`${name}/package.json`), 'utf8')).version;
const TS_VERSION = args.typescript ?? versionOf('typescript');
const TYPES_NODE_VERSION = versionOf('@types/node');

// ---------------------------------------------------------------------------------------------
// Running commands and reporting

/**
 * The environment a user's shell would have: without the variables pnpm sets for a script
 * (`npm_config_*` would steer the nested npm) and without what it adds to PATH (the workspace's
 * `node_modules/.bin`, a relative `./node_modules/.bin`, its own node-gyp).
 */
function cleanEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) || key === 'INIT_CWD' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => isAbsolute(dir) && !`${dir}${sep}`.startsWith(ROOT) && !dir.includes('node-gyp-bin'))
    .join(':');
  return env;
}
const ENV = cleanEnv();

/** Runs a command to completion; never rejects. */
function run(command, argv, { cwd, timeout = 300_000, env = ENV } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeout / 1000} s)`;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const results = [];
const started = performance.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const indent = (text, max = 40) => {
  const lines = text.trimEnd().split('\n');
  const shown = lines.length > max ? ['...', ...lines.slice(-max)] : lines;
  return shown.map((line) => `      ${line}`).join('\n');
};

/**
 * Runs one named check. `fn` returns lines to print under it, or throws; a thrown error's
 * `details` (command output) are printed indented.
 */
async function check(name, fn) {
  const t0 = performance.now();
  try {
    const lines = (await fn()) ?? [];
    results.push({ name, ok: true });
    console.log(`PASS ${name} (${seconds(performance.now() - t0)})`);
    for (const line of lines) console.log(`     ${line}`);
    return true;
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${seconds(performance.now() - t0)})`);
    console.log(indent(error instanceof Error ? error.message : String(error)));
    if (error?.details) console.log(indent(error.details));
    return false;
  }
}

/** An error carrying the output of a failed command. */
function failure(message, result) {
  const error = new Error(message);
  if (result) error.details = [result.stdout, result.stderr].filter((s) => s.trim() !== '').join('\n');
  return error;
}

/** Runs a command that must succeed. */
async function mustRun(command, argv, options) {
  const result = await run(command, argv, options);
  if (result.code !== 0) throw failure(`\`${command} ${argv.join(' ')}\` exited with ${result.code}`, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The temp project

const TMP = realpathSync(mkdtempSync(join(tmpdir(), 'vault-envelope-pack-')));
const TARBALLS = join(TMP, 'tarballs');
const APP = join(TMP, 'app');
mkdirSync(TARBALLS);
mkdirSync(APP);

let cleaned = false;
function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  if (args.keep) console.log(`kept ${TMP}`);
  else rmSync(TMP, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// The checks

async function main() {
  console.log(
    `test:pack: node ${process.versions.node}, typescript ${TS_VERSION}, @types/node ${TYPES_NODE_VERSION}, in ${TMP}`,
  );
  if (!relative(ROOT, TMP).startsWith('..')) throw new Error(`temp directory ${TMP} is inside the workspace`);

  await check('tarball rules catch what they forbid (synthetic packages)', () => {
    const dir = join(TMP, 'selftest');
    mkdirSync(dir);
    return selfTest(dir);
  });

  if (!args['no-build']) {
    const ok = await check('build (pnpm run build)', async () => {
      await mustRun('pnpm', ['run', 'build'], { cwd: ROOT, env: process.env });
    });
    if (!ok) return;
  }

  const tarballs = {};
  for (const name of PACKAGES) {
    const ok = await check(`pack @vault-envelope/${name}: contents`, async () => {
      const result = await mustRun('pnpm', ['pack', '--json', '--pack-destination', TARBALLS], {
        cwd: join(ROOT, 'packages', name),
        env: process.env,
      });
      const { filename } = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
      tarballs[name] = filename;
      const { problems, facts } = checkTarball(readTarball(filename), {
        name: `@vault-envelope/${name}`,
        repository: REPOSITORY,
        directory: `packages/${name}`,
        homepage: `${GITHUB}/tree/main/packages/${name}#readme`,
        bugs: `${GITHUB}/issues`,
      });
      if (problems.length > 0) throw new Error(problems.join('\n'));
      return facts;
    });
    if (!ok && tarballs[name] === undefined) return;
  }

  // A project as a user starts it: `npm install` of the packages, plus TypeScript and Node's
  // types from the registry. `overrides` pins the packages' dependencies on each other to the
  // tarballs too (they are not on the registry yet); `allowScripts` approves better-sqlite3's
  // native build, as the server's README tells npm >= 11 users to.
  const dependencies = Object.fromEntries(
    PACKAGES.map((name) => [`@vault-envelope/${name}`, `file:${relative(APP, tarballs[name])}`]),
  );
  writeFileSync(
    join(APP, 'package.json'),
    `${JSON.stringify(
      {
        name: 'pack-consumer',
        private: true,
        type: 'module',
        dependencies: { ...dependencies, ...ORM_PEERS },
        devDependencies: { typescript: TS_VERSION, '@types/node': TYPES_NODE_VERSION },
        overrides: Object.fromEntries(Object.keys(dependencies).map((name) => [name, `$${name}`])),
        allowScripts: { 'better-sqlite3': true },
      },
      null,
      2,
    )}\n`,
  );
  for (const file of ['scenario.cjs', 'esm.mjs', 'cjs.cjs', 'orm-scenario.cjs', 'orm-esm.mjs', 'orm-cjs.cjs'])
    copyFileSync(join(CONSUMER, file), join(APP, file));

  console.log(
    '     installing with npm (better-sqlite3 compiles unless a prebuilt binary is fetched: about a minute)',
  );
  const installed = await check('npm install of the tarballs, typescript and @types/node', async () => {
    const result = await mustRun('npm', ['install', '--no-audit', '--no-fund'], {
      cwd: APP,
      timeout: 600_000,
    });
    await mustRun('npm', ['ls', '--all'], { cwd: APP });
    const appRequire = createRequire(join(APP, 'package.json'));
    const lines = [];
    for (const name of PACKAGES) {
      const resolved = realpathSync(appRequire.resolve(`@vault-envelope/${name}`));
      if (!resolved.startsWith(join(APP, 'node_modules') + sep)) {
        throw new Error(`@vault-envelope/${name} resolves to ${resolved}, outside the temp project`);
      }
    }
    const sqlite = appRequire('better-sqlite3/package.json').version;
    lines.push(`npm ${(await run('npm', ['--version'], { cwd: APP })).stdout.trim()}, ${seconds(result.ms)}`);
    lines.push(`better-sqlite3 ${sqlite} native module built or fetched; the packages resolve inside ${APP}`);
    return lines;
  });
  if (!installed) return;

  await check('ESM: import of every package, scenario', async () => {
    const result = await mustRun('node', ['esm.mjs'], { cwd: APP, timeout: 60_000 });
    return outputLines(result, 4);
  });

  await check('CommonJS: require() of every package (ESM-only, Node >= 20.19), scenario', async () => {
    const result = await mustRun('node', ['cjs.cjs'], { cwd: APP, timeout: 60_000 });
    return outputLines(result, 4);
  });

  await check('ESM: import of the ORM integrations with drizzle-orm and kysely, scenario', async () => {
    const result = await mustRun('node', ['orm-esm.mjs'], { cwd: APP, timeout: 60_000 });
    return outputLines(result, 3);
  });

  await check('CommonJS: require() of the ORM integrations, scenario', async () => {
    const result = await mustRun('node', ['orm-cjs.cjs'], { cwd: APP, timeout: 60_000 });
    return outputLines(result, 3);
  });

  await check('bin: vault-envelope-server starts, answers one request, stops on SIGTERM', () => binCheck());
  await check('bin: vault-envelope --help and inspect', () => cliCheck());

  for (const tsCase of TS_CASES) {
    const since = tsCase.since ? ` [passes from TypeScript ${tsCase.since.version}]` : '';
    await check(`tsc ${TS_VERSION}: ${tsCase.name}${since}`, () => tsCheck(tsCase));
  }
}

/** The child's stdout lines; fails on a count other than `expected` or on anything on stderr. */
function outputLines(result, expected) {
  const lines = result.stdout.trim().split('\n').filter(Boolean);
  if (lines.length !== expected)
    throw failure(`expected ${expected} lines of output, got ${lines.length}`, result);
  if (result.stderr.trim() !== '') throw failure('unexpected output on stderr (a warning?)', result);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The installed bins

/** `vault-envelope --help` exits 0 and lists the commands; `inspect` reads a WorkOS vector. */
async function cliCheck() {
  const bin = join(APP, 'node_modules', '.bin', 'vault-envelope');
  const help = await run(bin, ['--help'], { cwd: APP, timeout: 30_000 });
  if (help.code !== 0 || !/migrate/.test(help.stdout) || !/index-key/.test(help.stdout)) {
    throw failure('vault-envelope --help did not list its commands', help);
  }
  // A format A message with a WorkOS key blob: IV, tag, LEB128(11), "WOS.EKM.v1\0", 1 byte of CT.
  const message = Buffer.concat([
    Buffer.alloc(28),
    Buffer.from([11]),
    Buffer.from('WOS.EKM.v1\0'),
    Buffer.from([0]),
  ]);
  const info = await run(bin, ['inspect', message.toString('base64')], { cwd: APP, timeout: 30_000 });
  if (info.code !== 0 || !/^format +A$/m.test(info.stdout) || !/^workosKeyBlob +true$/m.test(info.stdout)) {
    throw failure('vault-envelope inspect did not read the message', info);
  }
  return [`--help lists the commands; inspect: ${info.stdout.trim().split('\n')[0]}`];
}

async function binCheck() {
  const bin = join(APP, 'node_modules', '.bin', 'vault-envelope-server');
  const child = spawn(bin, ['--port', '0', '--memory', '--api-key', 'sk_pack_bin', '--quiet'], {
    cwd: APP,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const url = await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const newline = stdout.indexOf('\n');
        if (newline !== -1) resolve(stdout.slice(0, newline).trim());
      });
      exited.then(() => reject(failure('the bin exited before printing its URL', { stdout, stderr })));
    });
    const { hostname, port } = new URL(url);
    if (hostname !== '127.0.0.1' || port === '' || port === '0') throw new Error(`unexpected URL ${url}`);
    const response = await fetch(`${url}/vault/v1/keys/data-key`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_pack_bin', 'content-type': 'application/json' },
      body: JSON.stringify({ context: { organization_id: 'org_bin' } }),
    });
    const body = await response.json();
    if (
      response.status !== 200 ||
      typeof body.encrypted_keys !== 'string' ||
      typeof body.data_key !== 'string'
    ) {
      throw new Error(
        `POST /vault/v1/keys/data-key answered ${response.status} with fields ${Object.keys(body)}`,
      );
    }
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    if (code !== 0)
      throw failure(`the bin exited with ${code ?? signal} after SIGTERM, expected 0`, { stdout, stderr });
    return [`listened on ${hostname}:<free port>, POST /vault/v1/keys/data-key 200, exit 0 after SIGTERM`];
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// TypeScript consumers

/**
 * `[major, minor]` of a version string, for comparing against the TypeScript release that
 * introduced a behaviour.
 */
const minor = (version) => version.split('.').slice(0, 2).map(Number);
const atLeast = (version, floor) => {
  const [a, b] = minor(version);
  const [c, d] = minor(floor);
  return a > c || (a === c && b >= d);
};

const STRICT = {
  target: 'es2022',
  lib: ['es2022'],
  types: ['node'],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  rootDir: '.',
  outDir: 'out',
};

/**
 * Each case: a project (its package.json `type`, tsconfig options, one source file) and what
 * must happen. `since` is the first TypeScript release where the case passes, with the error
 * codes seen before it, so that `--typescript <older>` checks the documented failure instead.
 */
const TS_CASES = [
  {
    name: 'node16, ESM package: the Kysely integration and orm-core',
    type: 'module',
    source: 'types-orm.ts',
    options: { module: 'node16', moduleResolution: 'node16' },
  },
  {
    name: 'bundler: the Kysely integration and orm-core',
    type: 'module',
    source: 'types-orm.ts',
    options: { module: 'esnext', moduleResolution: 'bundler' },
  },
  {
    // drizzle-orm 0.45's declarations fail a library check of their own under these settings.
    name: 'node16, ESM package: the Drizzle integration (skipLibCheck)',
    type: 'module',
    source: 'types-drizzle.ts',
    options: { module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
  },
  {
    name: 'bundler: the Drizzle integration (skipLibCheck)',
    type: 'module',
    source: 'types-drizzle.ts',
    options: { module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true },
  },
  {
    name: 'node16, ESM package ("type": "module")',
    type: 'module',
    source: 'types.ts',
    options: { module: 'node16', moduleResolution: 'node16' },
  },
  {
    name: 'bundler (module esnext)',
    type: 'module',
    source: 'types.ts',
    options: { module: 'esnext', moduleResolution: 'bundler' },
  },
  {
    name: 'bundler, DOM lib and no @types/node (core, remote, cache)',
    type: 'module',
    source: 'types-browser.ts',
    options: { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] },
  },
  {
    name: 'nodenext, CommonJS package, static imports compiled to require() and run',
    type: 'commonjs',
    source: 'types.ts',
    options: { module: 'nodenext', moduleResolution: 'nodenext' },
    run: 'typed consumer: ',
    since: { version: '5.8', before: ['TS1479'] },
  },
  {
    name: 'nodenext + verbatimModuleSyntax, CommonJS package, import x = require(), run',
    type: 'commonjs',
    source: 'types-require.ts',
    options: { module: 'nodenext', moduleResolution: 'nodenext', verbatimModuleSyntax: true },
    run: 'import = require() consumer: ',
    since: { version: '5.8', before: ['TS1471'] },
  },
  {
    name: 'node16, CommonJS package, import() and resolution-mode type imports, run',
    type: 'commonjs',
    source: 'types-dynamic.ts',
    options: { module: 'node16', moduleResolution: 'node16' },
    run: 'dynamic import() consumer: ',
    since: { version: '5.3', before: ['TS1005', 'TS1128'] },
  },
  {
    name: 'node16, CommonJS package, static imports fail with TS1479 (as documented)',
    type: 'commonjs',
    source: 'types.ts',
    options: { module: 'node16', moduleResolution: 'node16' },
    fails: ['TS1479'],
  },
];

async function tsCheck({ name, type, source, options, run: expectedOutput, since, fails }) {
  const dir = join(
    APP,
    `ts-${name
      .replace(/[^a-z0-9]+/gi, '-')
      .toLowerCase()
      .slice(0, 40)}`,
  );
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type })}\n`);
  const compilerOptions = { ...STRICT, ...options, ...(expectedOutput ? {} : { noEmit: true }) };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions, include: ['index.ts'] }, null, 2)}\n`,
  );
  copyFileSync(join(CONSUMER, source), join(dir, 'index.ts'));

  const expectFailure = fails ?? (since && !atLeast(TS_VERSION, since.version) ? since.before : undefined);
  const tsc = join(APP, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run('node', [tsc, '-p', dir], { cwd: dir, timeout: 180_000 });
  const codes = [...new Set(result.stdout.match(/error TS\d+/g) ?? [])].map((e) => e.slice(6)).sort();
  const settings = Object.entries(options)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v}]` : v}`)
    .join(', ');

  if (expectFailure) {
    if (result.code === 0) throw new Error(`tsc passed; expected ${expectFailure.join(', ')}`);
    if (codes.join() !== [...expectFailure].sort().join()) {
      throw failure(
        `tsc failed with ${codes.join(', ') || 'no error code'}; expected only ${expectFailure}`,
        result,
      );
    }
    return [`${settings}: fails with ${codes.join(', ')} as expected`];
  }
  if (result.code !== 0)
    throw failure(`tsc failed with ${codes.join(', ') || `exit ${result.code}`}`, result);
  if (!expectedOutput) return [`${settings}: type-checks`];

  const ran = await mustRun('node', [join(dir, 'out', 'index.js')], { cwd: dir, timeout: 60_000 });
  const line = ran.stdout.trim();
  if (!line.startsWith(expectedOutput) || ran.stderr.trim() !== '') throw failure('unexpected output', ran);
  return [`${settings}: type-checks, runs: ${line}`];
}

// ---------------------------------------------------------------------------------------------

try {
  await main();
} catch (error) {
  results.push({ name: 'test:pack', ok: false });
  console.log(`FAIL ${error instanceof Error ? error.stack : error}`);
} finally {
  cleanUp();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`test:pack took ${seconds(performance.now() - started)}`);
console.log(`test:pack: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
