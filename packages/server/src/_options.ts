/**
 * Checks of the options given in code (`startServer`, `createVaultHandler`, `setFaults`), once, at
 * the edge, with the argument checks every `@vault-envelope` package shares (from core): a wrong
 * type is a `TypeError`, a value out of range a `RangeError`, every message reads
 * `<title> must be <what>, got <kind>` and never quotes a key. A misspelt option name is refused,
 * not silently ignored. What comes out is checked and normalised, so the parts of the server
 * that take it check nothing again. (Request bodies are checked elsewhere, as HTTP 400/422.)
 * @module
 */
import { aboolean, aduration, aint, aoptions, astring, astringOrBytes, kindOf } from '@vault-envelope/core';
import { parseMasterKey } from './_master.js';
import { DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT } from './options.js';

/** The option names of `createVaultHandler`. */
const HANDLER_OPTIONS: readonly string[] = [
  'dataDir',
  'memory',
  'apiKeys',
  'masterKey',
  'rateLimit',
  'maxBodyBytes',
  'cors',
  'faults',
  'log',
];
/** The option names of `startServer`: the handler's, where to listen, and the connection limits. */
const SERVER_OPTIONS: readonly string[] = [
  ...HANDLER_OPTIONS,
  'host',
  'port',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'idleTimeoutMs',
  'maxConnections',
];
const FAULT_OPTIONS: readonly string[] = [
  'latencyMs',
  'rate429',
  'retryAfterSeconds',
  'rate500',
  'rate503',
  'dropRate',
  'routes',
  'seed',
];
const API_KEY_OPTIONS: readonly string[] = ['key', 'name', 'permissions'];
const MAX = Number.MAX_SAFE_INTEGER;

/** One accepted API key, checked. */
export interface CheckedKey {
  /** The secret, `sk_...`. */
  key: string;
  /** Display name. */
  name: string;
  /** Whether the key may use the Vault routes. */
  vault: boolean;
}

/** Fault settings, checked: fractions in [0, 1] that add up to at most 1. */
export interface FaultPlan {
  latency: [min: number, max: number];
  drop: number;
  r429: number;
  r500: number;
  r503: number;
  retryAfter: number;
  routes: readonly string[] | undefined;
  seed: number | undefined;
}

/** The options of `createVaultHandler`, checked, with their defaults applied. */
export interface HandlerConfig {
  /** The keys to accept; `undefined`: generate a development key. */
  apiKeys: readonly CheckedKey[] | undefined;
  maxBodyBytes: number;
  /** `undefined`: no rate limit. */
  rateLimit: { limit: number; windowMs: number } | undefined;
  faults: FaultPlan | undefined;
  /** The allowed origins; `undefined`: no CORS. */
  cors: string | string[] | undefined;
  log: ((line: string) => void) | undefined;
  /** `undefined`: in memory. */
  dataDir: string | undefined;
  /** As configured (checked: 32 bytes, or base64 of 32 bytes). */
  masterKey: Uint8Array | string | undefined;
}

/** An array, or a `TypeError` in the shared message shape (core has no array check). */
function aarray(value: unknown, title: string, what = 'an array'): readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${title} must be ${what}, got ${kindOf(value)}`);
  return value;
}

/** A fraction in [0, 1]; absent is 0. */
function afraction(value: unknown, title: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${title} must be a number, got ${kindOf(value)}`);
  }
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${title} must be in [0, 1], got ${value}`);
  return value;
}

function checkLatency(value: unknown): [number, number] {
  if (value === undefined) return [0, 0];
  if (typeof value === 'number') {
    aduration(value, 'faults.latencyMs');
    return [value, value];
  }
  const range = aarray(value, 'faults.latencyMs', 'a number or [min, max]');
  if (range.length !== 2) {
    throw new RangeError(`faults.latencyMs must be [min, max], got ${range.length} items`);
  }
  const min = aduration(range[0], 'faults.latencyMs[0]');
  const max = aduration(range[1], 'faults.latencyMs[1]', { min });
  return [min, max];
}

/**
 * Checks fault settings (the `faults` option and `setFaults`).
 * @param faults - The settings.
 * @returns The checked plan.
 * @throws TypeError / RangeError on a malformed setting, or fractions that add up to more than 1.
 */
export function checkFaults(faults: unknown): FaultPlan {
  const f = aoptions(faults, 'faults', FAULT_OPTIONS);
  const plan: FaultPlan = {
    latency: checkLatency(f['latencyMs']),
    drop: afraction(f['dropRate'], 'faults.dropRate'),
    r429: afraction(f['rate429'], 'faults.rate429'),
    r500: afraction(f['rate500'], 'faults.rate500'),
    r503: afraction(f['rate503'], 'faults.rate503'),
    retryAfter:
      f['retryAfterSeconds'] === undefined
        ? 1
        : aint(f['retryAfterSeconds'], 0, MAX, 'faults.retryAfterSeconds'),
    routes:
      f['routes'] === undefined
        ? undefined
        : aarray(f['routes'], 'faults.routes').map((r, i) => astring(r, `faults.routes[${i}]`)),
    seed: f['seed'] === undefined ? undefined : aint(f['seed'], -MAX, MAX, 'faults.seed'),
  };
  const sum = plan.drop + plan.r429 + plan.r500 + plan.r503;
  if (sum > 1 + 1e-9) {
    throw new RangeError(
      `faults.dropRate + faults.rate429 + faults.rate500 + faults.rate503 must be at most 1, got ${sum}`,
    );
  }
  return plan;
}

function checkApiKey(value: unknown, index: number): CheckedKey {
  const title = `apiKeys[${index}]`;
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new TypeError(`${title} must be a string or an object, got ${kindOf(value)}`);
  }
  const cfg = typeof value === 'string' ? { key: value } : aoptions(value, title, API_KEY_OPTIONS);
  const keyTitle = typeof value === 'string' ? title : `${title}.key`;
  const key = astring(cfg['key'], keyTitle, 4);
  if (!key.startsWith('sk_')) throw new RangeError(`${keyTitle} must start with "sk_", got another prefix`);
  const name = cfg['name'] === undefined ? 'API key' : astring(cfg['name'], `${title}.name`);
  let vault = true;
  if (cfg['permissions'] !== undefined) {
    const permissions = aarray(cfg['permissions'], `${title}.permissions`).map((p, i) =>
      astring(p, `${title}.permissions[${i}]`),
    );
    vault = permissions.includes('vault');
  }
  return { key, name, vault };
}

function checkApiKeys(value: unknown): readonly CheckedKey[] | undefined {
  if (value === undefined) return undefined;
  const list = aarray(value, 'apiKeys');
  return list.length === 0 ? undefined : list.map(checkApiKey);
}

function checkRateLimit(value: unknown): { limit: number; windowMs: number } | undefined {
  if (value === false) return undefined;
  if (value === undefined) return { ...DEFAULT_RATE_LIMIT };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`rateLimit must be an object or false, got ${kindOf(value)}`);
  }
  const o = aoptions(value, 'rateLimit', ['limit', 'windowMs']);
  return {
    limit: aint(o['limit'], 1, MAX, 'rateLimit.limit'),
    windowMs:
      o['windowMs'] === undefined
        ? DEFAULT_RATE_LIMIT.windowMs
        : aduration(o['windowMs'], 'rateLimit.windowMs', { exclusive: true }),
  };
}

function checkCors(value: unknown): string | string[] | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return '*';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`cors must be a boolean or an object, got ${kindOf(value)}`);
  }
  const o = aoptions(value, 'cors', ['origins']);
  return aarray(o['origins'], 'cors.origins').map((origin, i) => astring(origin, `cors.origins[${i}]`, 1));
}

function checkLog(value: unknown): ((line: string) => void) | undefined {
  if (value === undefined || value === false) return undefined;
  // A union core's afunction can not name: the message says both what is accepted.
  if (typeof value !== 'function') {
    throw new TypeError(`log must be a function or false, got ${kindOf(value)}`);
  }
  return value as (line: string) => void;
}

/**
 * Checks a configured master key in full now, so that a malformed one is refused before anything
 * is opened; the bytes decoded for the check are zeroed at once (the key is decoded again, and
 * kept only as long as it takes to prepare it, when the services open).
 */
function checkMasterKey(value: unknown): Uint8Array | string | undefined {
  if (value === undefined) return undefined;
  const key = astringOrBytes(value, 'masterKey');
  parseMasterKey(key).fill(0);
  return key;
}

function checkHandler(o: Record<string, unknown>): HandlerConfig {
  const memory = o['memory'] === undefined ? false : aboolean(o['memory'], 'memory');
  const dataDir = o['dataDir'] === undefined ? undefined : astring(o['dataDir'], 'dataDir', 1);
  return {
    apiKeys: checkApiKeys(o['apiKeys']),
    maxBodyBytes:
      o['maxBodyBytes'] === undefined
        ? DEFAULT_MAX_BODY_BYTES
        : aint(o['maxBodyBytes'], 1, MAX, 'maxBodyBytes'),
    rateLimit: checkRateLimit(o['rateLimit']),
    faults: o['faults'] === undefined ? undefined : checkFaults(o['faults']),
    cors: checkCors(o['cors']),
    log: checkLog(o['log']),
    dataDir: memory ? undefined : (dataDir ?? './.vault-data'),
    masterKey: checkMasterKey(o['masterKey']),
  };
}

/**
 * Checks the options of `createVaultHandler`.
 * @param options - As given.
 * @returns The checked options with defaults applied.
 * @throws TypeError / RangeError on a malformed or unknown option.
 */
export function checkHandlerOptions(options: unknown): HandlerConfig {
  return checkHandler(aoptions(options, 'createVaultHandler options', HANDLER_OPTIONS));
}

/** The connection limits of `startServer`, checked, with their defaults applied. */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

/** Longest timeout Node's timers take (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31;

function timeout(o: Record<string, unknown>, name: keyof ConnectionLimits): number {
  const v = o[name];
  if (v === undefined) return DEFAULT_CONNECTION_LIMITS[name];
  return aduration(v, name, { exclusive: true, max: MAX_TIMER_MS });
}

function checkLimits(o: Record<string, unknown>): ConnectionLimits {
  const limits: ConnectionLimits = {
    headersTimeoutMs: timeout(o, 'headersTimeoutMs'),
    requestTimeoutMs: timeout(o, 'requestTimeoutMs'),
    idleTimeoutMs: timeout(o, 'idleTimeoutMs'),
    maxConnections:
      o['maxConnections'] === undefined
        ? DEFAULT_CONNECTION_LIMITS.maxConnections
        : aint(o['maxConnections'], 1, 2 ** 31 - 1, 'maxConnections'),
  };
  // Node refuses a header timeout longer than the request's: the headers are part of the request.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs must be at most requestTimeoutMs (${limits.requestTimeoutMs}), got ${limits.headersTimeoutMs}`,
    );
  }
  return limits;
}

/**
 * Checks the options of `startServer`: where to listen, the connection limits, and the handler's
 * options.
 * @param options - As given.
 * @returns The interface and port, the limits, and the checked handler options.
 * @throws TypeError / RangeError on a malformed or unknown option.
 */
export function checkServerOptions(options: unknown): {
  host: string;
  port: number;
  limits: ConnectionLimits;
  handler: HandlerConfig;
} {
  const o = aoptions(options, 'startServer options', SERVER_OPTIONS);
  return {
    host: o['host'] === undefined ? '127.0.0.1' : astring(o['host'], 'host', 1),
    port: o['port'] === undefined ? 8787 : aint(o['port'], 0, 65535, 'port'),
    limits: checkLimits(o),
    handler: checkHandler(o),
  };
}
