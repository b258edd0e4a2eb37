/**
 * workerd, the open-source Cloudflare Workers runtime, serving one Worker that imports the check
 * bundle and answers a POSTed config with the report. The launcher (`scripts/workerd.mjs`, shared
 * with the workerd bench) gives it the default compatibility (no `nodejs_compat`: no `process`,
 * `Buffer` or `node:` modules, exactly what a Worker gets by default), and here an outbound
 * network that reaches only local addresses (the Vault server).
 * @module
 */
import { startWorkerd as launch } from '../scripts/workerd.mjs';
import type { CheckConfig, Report } from '../src/types.js';

export { COMPATIBILITY_DATE, workerdBinary } from '../scripts/workerd.mjs';

const WORKER = `import { runAll } from './bundle.js';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST a check config', { status: 405 });
    return Response.json(await runAll(await request.json()));
  },
};
`;

/** A running workerd with the check Worker. */
export interface Workerd {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** POSTs the config and returns the Worker's report. */
  runAll(config: CheckConfig): Promise<Report>;
  close(): Promise<void>;
}

/**
 * Starts workerd with the check Worker around `bundle`.
 * @param bundle - The bundle's code (an ES module), imported by the Worker as `./bundle.js`.
 * @returns The running runtime.
 */
export async function startWorkerd(bundle: string): Promise<Workerd> {
  const w = await launch({ modules: { 'worker.js': WORKER, 'bundle.js': bundle }, outbound: 'local' });
  return {
    url: w.url,
    async runAll(config) {
      const res = await fetch(w.url, { method: 'POST', body: JSON.stringify(config) });
      if (!res.ok) throw new Error(`the Worker answered ${res.status}: ${await res.text()} ${w.stderr()}`);
      return (await res.json()) as Report;
    },
    close: w.close,
  };
}
