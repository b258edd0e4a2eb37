/**
 * The shapes passed into the bundle's checks and handed back by them: plain JSON, because they
 * cross from Node into a Chromium page (`page.evaluate`) or a `vm` context and back.
 * @module
 */

import type { WorkosVector } from '../../packages/core/test/_workos-vector.js';
import type { GcmGroup } from '../../packages/core/test/_wycheproof.js';

/** One entry of the WorkOS vector file, and a Wycheproof AES-GCM group: the types the core tests use too. */
export type { GcmGroup, WorkosVector };

/** Where the local Vault server is, for the remote checks. */
export interface VaultTarget {
  /** Base URL of a server that answers CORS requests. */
  url: string;
  /** An API key the server accepts. */
  apiKey: string;
  /** A prefix for object names, unique per run, so that two runtimes can share one server. */
  namePrefix: string;
  /** Base URL of a second server with CORS off (browser only: the call must fail there). */
  corsOffUrl?: string;
}

/** What the Node side hands to {@link runAll}. */
export interface CheckConfig {
  /** The WorkOS vectors to decrypt. */
  vectors: WorkosVector[];
  /** Wycheproof AES-GCM groups (256-bit keys, 128-bit tags) to run on the web backend. */
  wycheproof?: GcmGroup[];
  /** The local Vault server; without it the remote checks are not run. */
  vault?: VaultTarget;
}

/** The outcome of one group of checks: its observations, or the error that stopped it. */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

/** What the runtime looks like from inside. */
export interface RuntimeFacts {
  /** `typeof process`, `typeof Buffer`, `typeof require` and friends. */
  globals: Record<string, string>;
  /** Whether WebCrypto's `getRandomValues` is there. */
  getRandomValues: boolean;
  /** `navigator.userAgent`, where there is a navigator. */
  userAgent: string | undefined;
  /** Whether `new Function('...')` works (off under a strict CSP, on Workers, in the vm run). */
  codeFromStrings: boolean;
}

/** Observations of the core checks. */
export interface CoreReport {
  /** `selectBackend('auto').name`. */
  autoBackend: string;
  /** `new Envelope({ keys }).backend` with the default backend choice. */
  envelopeDefaultBackend: string;
  /** Whether `fastBackend()` returned a backend. */
  fastAvailable: boolean;
  /** The error `selectBackend('fast')` threw (`Name: message`), or `'none'`. */
  fastError: string;
  /** Whether `webBackend()` returned a backend (WebCrypto is there). */
  webAvailable: boolean;
  /** Byte round trips on the web backend (WebCrypto), as `roundTripSizes`. */
  webRoundTripSizes: { size: number; equal: boolean; format: string }[];
  /** The web backend's bytes against the portable backend's for random keys, IVs, AAD and plaintexts. */
  webAgrees: { cases: number; same: number; decrypted: number; tamperedRefused: number };
  /** Wycheproof on the web backend: per group, valid cases that matched and invalid ones refused, on both sides. */
  wycheproof: {
    ivSize: number;
    tests: number;
    validMatched: number;
    invalidRefused: number;
    failures: string[];
  }[];
  /** Byte round trips on the portable backend: the sizes that came back equal. */
  roundTripSizes: { size: number; equal: boolean; format: string }[];
  /** A non-ASCII string through encrypt and decryptToString. */
  unicode: string;
  /** The error names of decrypting with a wrong AAD, a flipped ciphertext byte and garbage. */
  wrongAad: string;
  tampered: string;
  garbage: string;
  /** encryptMany/decryptMany: how many items came back ok and equal. */
  batch: { items: number; ok: number };
  /** Each WorkOS vector: the decrypted text, the wrong-AAD error, and for format A our bytes with its IV. */
  vectors: {
    name: string;
    plaintext: string;
    wrongAad: string;
    ciphertextHex?: string;
    tagHex?: string;
    /** The same through an Envelope on the web backend, and its bytes (`encryptAsync`) with the vector's IV. */
    webPlaintext: string;
    webWrongAad: string;
    webSealedHex?: string;
  }[];
  /** The Buffer-free base64 path: samples to compare with Node's `Buffer`, and rejected inputs. */
  base64: {
    samples: { hex: string; encoded: string; btoa: string; decodedHex: string }[];
    rejected: { input: string; error: string }[];
  };
  /** A ciphertext made here under a fixed key, for Node to decrypt. */
  made: { keyHex: string; encryptedKeysHex: string; ciphertext: string; plaintext: string; aad: string };
  /** A blind index computed here, for Node to recompute. */
  blindIndex: { keyHex: string; name: string; value: string; index: string };
}

/** Observations of the cache checks (a `cachedKeyProvider` over a `MemoryKeyProvider`). */
export interface CacheReport {
  /** Messages encrypted and decrypted. */
  messages: number;
  /** Whether every message decrypted to its plaintext. */
  allEqual: boolean;
  /** `MemoryKeyProvider.stats()` after the run: what reached the wrapped provider. */
  provider: { created: number; decrypted: number };
  /** The cache's `stats()` after the run. */
  stats: Record<string, number | string>;
  /** Concurrent decrypts of one unseen key through a fresh cache: its stats and the provider's. */
  concurrent: { callers: number; stats: Record<string, number | string>; providerDecrypted: number };
}

/** Observations of the remote checks (a `VaultClient` over HTTP to the local server). */
export interface RemoteReport {
  /** `createDataKey` then `decryptDataKey` of its blob: same id and same key bytes. */
  dataKey: { keyLength: number; encryptedKeysLength: number; sameKey: boolean; sameId: boolean };
  /** An Envelope over `cachedKeyProvider(client)`. */
  envelope: { messages: number; allEqual: boolean; stats: Record<string, number | string> };
  /** Object API: create, read by name, update, versions, delete, then read again. */
  objects: {
    created: boolean;
    readValue: string;
    updatedValue: string;
    versions: number;
    afterDelete: string;
  };
  /** A call with an unknown API key. */
  badKey: { error: string; status: number | undefined; hasRequestId: boolean };
  /** A call to a server with CORS off (browser only). */
  corsOff?: { error: string };
}

/** Everything the bundle reports. */
export interface Report {
  runtime: RuntimeFacts;
  core: Section<CoreReport>;
  cache: Section<CacheReport>;
  remote?: Section<RemoteReport>;
}
