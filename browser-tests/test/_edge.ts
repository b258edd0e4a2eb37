/**
 * An edge-like runtime: a Node `vm` context whose global object holds only web globals (WebCrypto,
 * TextEncoder/Decoder, fetch and its classes, URL, AbortController, timers, atob/btoa,
 * performance...), with no `process`, `Buffer`, `require`, `module` or `global`, and with code
 * generation from strings off (no `eval`/`new Function`, as on Cloudflare Workers). The bundle is
 * loaded as an ES module (`vm.SourceTextModule`, so vitest runs this file with
 * `--experimental-vm-modules`) and may import nothing.
 * @module
 */
import vm from 'node:vm';
import type { CheckConfig, Report } from '../src/types.js';

export { NODE_GLOBALS } from '../src/_util.js';

/** The web globals the context gets, taken from this Node process. */
export const WEB_GLOBALS = [
  'crypto',
  'TextEncoder',
  'TextDecoder',
  'fetch',
  'Request',
  'Response',
  'Headers',
  'FormData',
  'Blob',
  'URL',
  'URLSearchParams',
  'AbortController',
  'AbortSignal',
  'DOMException',
  'Event',
  'EventTarget',
  'ReadableStream',
  'WritableStream',
  'TransformStream',
  'TextEncoderStream',
  'TextDecoderStream',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'queueMicrotask',
  'structuredClone',
  'atob',
  'btoa',
  'performance',
  'console',
] as const;

/** The evaluated bundle inside its context. */
export interface EdgeModule {
  /** The context's global object, for inspection. */
  context: vm.Context;
  /** Runs the checks in the context; config and report cross as JSON. */
  runAll(config: CheckConfig): Promise<Report>;
}

/**
 * Creates the edge-like context and evaluates the bundle in it.
 * @param code - The bundle (an ES module).
 * @returns The loaded module.
 */
export async function loadInEdgeContext(code: string): Promise<EdgeModule> {
  const g = globalThis as unknown as Record<string, unknown>;
  const sandbox: Record<string, unknown> = {};
  for (const name of WEB_GLOBALS) {
    if (g[name] === undefined) throw new Error(`this Node has no global ${name}`);
    sandbox[name] = g[name];
  }
  sandbox['navigator'] = { userAgent: 'vault-envelope edge-like vm' };
  const context = vm.createContext(sandbox, {
    name: 'edge-like',
    codeGeneration: { strings: false, wasm: false },
  });
  vm.runInContext('globalThis.self = globalThis;', context);
  const mod = new vm.SourceTextModule(code, { context, identifier: 'vault-envelope-checks.js' });
  await mod.link((specifier) => {
    throw new Error(`the bundle imports ${specifier}: it must stand alone`);
  });
  await mod.evaluate();
  const ns = mod.namespace as { runAll(config: unknown): Promise<unknown> };
  // JSON across the boundary, parsed by the context's own JSON, so the checks see objects of
  // their realm (as in a real worker) and the test sees objects of its own.
  const parseInContext = vm.runInContext('JSON.parse', context) as (text: string) => unknown;
  return {
    context,
    async runAll(config) {
      const report = await ns.runAll(parseInContext(JSON.stringify(config)));
      return JSON.parse(JSON.stringify(report)) as Report;
    },
  };
}
