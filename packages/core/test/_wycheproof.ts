// The Wycheproof AES-GCM file's shapes (aes_gcm_test.json, the fields the tests read).
// Dependency-free, so that the browser checks, which run the same cases inside a bundle, can
// name the same types.

/** One Wycheproof AES-GCM case: hex fields, and whether it must verify. */
export interface GcmCase {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: string;
  flags?: string[];
}

/** One Wycheproof AES-GCM test group. */
export interface GcmGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: GcmCase[];
}
