/**
 * workerd, the open-source Cloudflare Workers runtime (the `workerd` npm package ships its binary),
 * serving one Worker that imports the check bundle and answers a POSTed config with the report.
 * No `nodejs_compat` flag: the Worker has no `process`, `Buffer` or `node:` modules, exactly what
 * a Worker gets by default. Its outbound network may reach only local addresses (the Vault server).
 * The listening port is read from workerd's control pipe (`--control-fd`), so any free port works.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { CheckConfig, Report } from '../src/types.js';

/** The compatibility date the Worker runs with: fixed, so the run does not change under us. */
export const COMPATIBILITY_DATE = '2025-09-01';

const WORKER = `import { runAll } from './bundle.js';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST a check config', { status: 405 });
    return Response.json(await runAll(await request.json()));
  },
};
`;

const CONFIG = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .checks),
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const checks :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "bundle.js", esModule = embed "bundle.js"),
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`;

/** A running workerd with the check Worker. */
export interface Workerd {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** POSTs the config and returns the Worker's report. */
  runAll(config: CheckConfig): Promise<Report>;
  close(): Promise<void>;
}

/** The path of the workerd binary, from the `workerd` package. */
export function workerdBinary(): string {
  const mod = createRequire(import.meta.url)('workerd') as { default: string };
  return mod.default;
}

function listenPort(control: Readable, child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onExit = (code: number | null) =>
      reject(new Error(`workerd exited (${code}) before listening: ${stderr()}`));
    child.once('exit', onExit);
    control.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const event = JSON.parse(line) as { event?: string; socket?: string; port?: number };
        if (event.event === 'listen' && event.socket === 'http' && typeof event.port === 'number') {
          child.off('exit', onExit);
          resolve(event.port);
        }
      }
    });
  });
}

/**
 * Starts workerd with the check Worker around `bundle`.
 * @param bundle - The bundle's code (an ES module), imported by the Worker as `./bundle.js`.
 * @returns The running runtime.
 */
export async function startWorkerd(bundle: string): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), 'vault-envelope-workerd-'));
  writeFileSync(join(dir, 'bundle.js'), bundle);
  writeFileSync(join(dir, 'worker.js'), WORKER);
  writeFileSync(join(dir, 'config.capnp'), CONFIG);
  const child = spawn(workerdBinary(), ['serve', 'config.capnp', '--control-fd=3'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  child.stdout?.resume();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await listenPort(child.stdio[3] as Readable, child, () => err);
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      async runAll(config) {
        const res = await fetch(url, { method: 'POST', body: JSON.stringify(config) });
        if (!res.ok) throw new Error(`the Worker answered ${res.status}: ${await res.text()} ${err}`);
        return (await res.json()) as Report;
      },
      close: stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
