// @ts-check
/**
 * Starts workerd, the open-source Cloudflare Workers runtime (the `workerd` npm package ships its
 * binary), with one module Worker, for the workerd checks (`test/workerd.test.ts`) and the
 * workerd bench (`scripts/bench.mjs`). One launcher for both, so they run the Worker the same way:
 * the default compatibility (no `nodejs_compat`: no `process`, `Buffer` or `node:` modules, what
 * a Worker gets by default), a socket on 127.0.0.1 only, and an outbound network that reaches
 * only local addresses or nothing at all.
 *
 * The listening port is read from workerd's control pipe (`--control-fd`), so any free port works
 * and nothing polls for it.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The compatibility date the Workers run with: fixed, so a run does not change under us. */
export const COMPATIBILITY_DATE = '2025-09-01';

/** How long workerd may take to start listening before we give up. */
const START_TIMEOUT_MS = 30_000;

/**
 * The path of the workerd binary and its version, from the `workerd` package.
 * @returns {{ path: string, version: string }} The binary.
 * @example
 * ```js
 * const { path, version } = workerdBinary();
 * ```
 */
export function workerdBinary() {
  const mod = /** @type {{ default: string, version: string }} */ (createRequire(import.meta.url)('workerd'));
  return { path: mod.default, version: mod.version };
}

/**
 * @typedef {object} RunningWorkerd
 * @property {string} url - `http://127.0.0.1:PORT`, the Worker's socket.
 * @property {string} version - The workerd version.
 * @property {() => string} stderr - What workerd wrote to stderr so far (for error messages).
 * @property {() => Promise<void>} close - Stops workerd (SIGTERM) and removes its directory.
 */

/**
 * The capnp config: one Worker named `main` on `127.0.0.1:0`.
 * @param {string[]} names - The module names, the main module first.
 * @param {'local' | 'none'} outbound - What the Worker's `fetch` may reach.
 * @returns {string} The config text.
 */
function config(names, outbound) {
  const modules = names.map(
    (n) => `    (name = ${JSON.stringify(n)}, esModule = embed ${JSON.stringify(n)}),`,
  );
  // With no `internet` service and `globalOutbound` pointing at a network that allows nothing,
  // every outbound `fetch` of the Worker fails.
  const network = outbound === 'local' ? '["local"]' : '[]';
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "outbound", network = (allow = ${network})),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
${modules.join('\n')}
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  globalOutbound = "outbound",
);
`;
}

/**
 * Starts workerd with one module Worker made of `modules` (name → ES module source; the first is
 * the main module, whose default export answers `fetch`).
 * @param {{ modules: Record<string, string>, outbound?: 'local' | 'none' }} options - The modules
 *   and what the Worker may reach (`'local'`: local addresses, for the Vault server; `'none'`,
 *   the default: nothing).
 * @returns {Promise<RunningWorkerd>} The running runtime.
 * @throws {Error} When workerd exits before it listens or does not listen within 30 s.
 * @example
 * ```js
 * const w = await startWorkerd({ modules: { 'worker.js': 'export default { fetch: () => new Response("hi") }' } });
 * console.log(await (await fetch(w.url)).text());
 * await w.close();
 * ```
 */
export async function startWorkerd({ modules, outbound = 'none' }) {
  const names = Object.keys(modules);
  if (names.length === 0) throw new TypeError('modules must be a non-empty object, got an empty one');
  const { path, version } = workerdBinary();
  const dir = mkdtempSync(join(tmpdir(), 'vault-envelope-workerd-'));
  for (const n of names) writeFileSync(join(dir, n), /** @type {string} */ (modules[n]));
  writeFileSync(join(dir, 'config.capnp'), config(names, outbound));
  const child = spawn(path, ['serve', 'config.capnp', '--control-fd=3'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (/** @type {Buffer} */ d) => {
    err += d.toString('utf8');
  });
  child.stdout?.resume();
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const control = /** @type {import('node:stream').Readable} */ (child.stdio[3]);
  try {
    const port = await new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(
        () => reject(new Error(`workerd did not listen within ${START_TIMEOUT_MS} ms: ${err}`)),
        START_TIMEOUT_MS,
      );
      const onExit = (/** @type {number | null} */ code) => {
        clearTimeout(timer);
        reject(new Error(`workerd exited (${code}) before listening: ${err}`));
      };
      child.once('exit', onExit);
      control.on('data', (/** @type {Buffer} */ chunk) => {
        buffered += chunk.toString('utf8');
        for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const event = /** @type {{ event?: string, socket?: string, port?: number }} */ (JSON.parse(line));
          if (event.event === 'listen' && event.socket === 'http' && typeof event.port === 'number') {
            clearTimeout(timer);
            child.off('exit', onExit);
            resolve(event.port);
          }
        }
      });
    });
    return { url: `http://127.0.0.1:${port}`, version, stderr: () => err, close };
  } catch (e) {
    await close();
    throw e;
  }
}
