// Cache-hit cost, median ns per call, against a bare Map.get in the same run.
// Usage: pnpm --filter @vault-envelope/cache bench   (builds first; runs on the dist output)
// Each figure is a median over 41 batches of 20,000 calls, after a warm-up. Hit calls are timed
// synchronously (the call returns an already-resolved promise); awaiting it is the caller's cost.
import { MemoryKeyProvider } from '@vault-envelope/core';
import { cachedKeyProvider } from '../dist/index.js';

const BATCH = 20_000;
const BATCHES = 41;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

// The machine may be shared and loaded: every batch of the subject is paired with a batch of the
// baseline (a bare Map.get) run right before it, and the figures are medians over the pairs.
const baseKeys = Array.from({ length: 64 }, (_, i) => `org_${String(i).padStart(20, '0')}`);
const baseMap = new Map(baseKeys.map((k) => [k, k]));
const baseline = (i) => baseMap.get(baseKeys[i & 63]);

function batch(op) {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) sink ^= op(i) === undefined ? 0 : 1;
  return { ns: Number(process.hrtime.bigint() - t0) / BATCH, sink };
}

function bench(name, op) {
  for (let w = 0; w < 5; w++) {
    batch(op);
    batch(baseline);
  }
  const subject = [];
  const base = [];
  const ratio = [];
  for (let b = 0; b < BATCHES; b++) {
    const m = batch(baseline).ns;
    const s = batch(op).ns;
    base.push(m);
    subject.push(s);
    ratio.push(s / m);
  }
  return { name, ns: median(subject), base: median(base), ratio: median(ratio) };
}

/** A provider with wrapped keys of a chosen size (random bytes), for the decrypt-side figures. */
class SizedProvider {
  constructor(size) {
    this.size = size;
  }
  async createDataKey(context) {
    return this.#make(context);
  }
  async decryptDataKey(blob) {
    return { id: 'k', key: new Uint8Array(32).fill(7), encryptedKeys: blob.slice(), context: {} };
  }
  #make(context) {
    const blob = crypto.getRandomValues(new Uint8Array(this.size));
    return { id: 'k', key: new Uint8Array(32).fill(7), encryptedKeys: blob, context };
  }
}

const N = 64; // distinct keys in the cache, looked up round-robin
const rows = [];

for (const size of [100, 160, 400]) {
  const keys = cachedKeyProvider(new SizedProvider(size), { maxAge: 3_600_000, capacity: 1000 });
  const blobs = [];
  for (let i = 0; i < N; i++) blobs.push((await keys.createDataKey({ i: String(i) })).encryptedKeys);
  // Blobs as a parsed ciphertext has them: views at an odd offset into a larger buffer.
  const views = blobs.map((b) => {
    const buf = new Uint8Array(b.length + 40);
    buf.set(b, 29);
    return buf.subarray(29, 29 + b.length);
  });
  rows.push(bench(`decryptDataKey hit, ${size}-byte blob`, (i) => keys.decryptDataKey(views[i & (N - 1)])));
  if (keys.stats().misses !== N || keys.stats().hits === 0) throw new Error('not all hits');
  // The alternative the design rejected: a latin1 string of the whole blob as the Map key.
  const latin1 = globalThis.Buffer.prototype.latin1Slice;
  const m = new Map(views.map((v, i) => [latin1.call(v, 0, v.length), i]));
  rows.push(
    bench(`  (alternative) latin1Slice + Map.get, ${size} bytes`, (i) => {
      const v = views[i & (N - 1)];
      return m.get(latin1.call(v, 0, v.length));
    }),
  );
}

{
  const provider = new MemoryKeyProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 3_600_000, maxMessages: 2 ** 32 });
  const ids = Array.from({ length: N }, (_, i) => `org_${String(i).padStart(20, '0')}`);
  const ctxs = ids.map((organization_id) => ({ organization_id }));
  const usage = { usage: { messages: 1, bytes: 100 } };
  for (const c of ctxs) await keys.createDataKey(c, usage);
  rows.push(bench('createDataKey hit, 1-entry context', (i) => keys.createDataKey(ctxs[i & (N - 1)], usage)));
  rows.push(
    bench('createDataKey hit, 1-entry context built per call', (i) =>
      keys.createDataKey({ organization_id: ids[i & (N - 1)] }, usage),
    ),
  );
  const ctx3 = ids.map((id) => ({ organization_id: id, environment: 'production', region: 'eu-west-1' }));
  for (const c of ctx3) await keys.createDataKey(c, usage);
  rows.push(bench('createDataKey hit, 3-entry context', (i) => keys.createDataKey(ctx3[i & (N - 1)], usage)));
  if (keys.stats().misses !== 2 * N) throw new Error('not all hits');
}

rows.push(bench('performance.now() (the default clock)', () => performance.now()));
rows.push(bench('Date.now()', () => Date.now()));

console.log(`node ${process.version}, ${BATCHES} paired batches x ${BATCH} calls, medians in ns per call\n`);
console.log(`${'operation'.padEnd(56)} ${'ns'.padStart(8)} ${'Map.get'.padStart(8)} ${'ratio'.padStart(7)}`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(56)} ${r.ns.toFixed(1).padStart(8)} ${r.base.toFixed(1).padStart(8)} ${r.ratio.toFixed(1).padStart(6)}x`,
  );
}
