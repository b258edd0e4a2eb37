// @ts-check
/**
 * Writes vectors/vectors.json, the test vectors this package publishes, computed here with
 * `node:crypto` and plain string and byte code written from the format guide, never with this
 * package's own code: the published vectors are an independent statement of the format, and
 * packages/core/test/published-vectors.test.ts holds our code to every one of them (and checks
 * that this script still writes the file byte for byte, so the two can not drift apart).
 *
 *   node packages/core/scripts/vectors.mjs           # writes the file
 *   node packages/core/scripts/vectors.mjs --check   # exits 1 when the file differs
 * @module
 */
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const OUT = here('../vectors/vectors.json');

const hex = (b) => Buffer.from(b).toString('hex');
const b64 = (b) => Buffer.from(b).toString('base64');
const utf8 = (s) => Buffer.from(s, 'utf8');
/** Deterministic bytes: SHA-256 in counter mode of a label. */
function bytesOf(label, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, at = 0; at < n; i++) {
    const h = createHash('sha256').update(`${label}/${i}`).digest();
    h.copy(out, at, 0, Math.min(32, n - at));
    at += 32;
  }
  return out;
}
function leb128(n) {
  const out = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
function gcm(key, iv, aad, plaintext) {
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  if (aad !== undefined && aad.length > 0) c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { ct, tag: c.getAuthTag() };
}
/** `%` as `%25`, then `|` as `%7C`: the escaping of the AAD schemes. */
const esc = (s) => s.replaceAll('%', '%25').replaceAll('|', '%7C');

const SOURCES = {
  'vault-envelope': {
    licence: 'MIT',
    what: 'computed for this project by this script with node:crypto (packages/core/scripts/vectors.mjs)',
  },
  'vault-envelope, checked against @workos-inc/node 11.0.0': {
    licence: 'MIT',
    what: 'computed for this project; the official WorkOS Node SDK 11.0.0 decrypts them and writes the same bytes given the same IV',
  },
  'workos-go': {
    licence: 'MIT',
    what: 'a real ciphertext of the live WorkOS Vault API, written by an early SDK with a 32-byte IV, published in the test suite of the official Go SDK (github.com/workos/workos-go)',
  },
  wycheproof: {
    licence: 'Apache-2.0 (LICENSE-wycheproof in this directory)',
    what: 'C2SP/wycheproof testvectors_v1/aes_gcm_test.json, commit dac1dd4 (2026-08-18): the groups with 256-bit keys, 128-bit tags and 96- or 256-bit IVs',
  },
};

/** A message vector, laid out by hand from its parts. */
function message({
  id,
  layout,
  source,
  key,
  blob,
  iv,
  aad,
  plaintext,
  plaintextHex,
  tenant,
  callerAad,
  fieldParts,
  note,
}) {
  const pt = plaintextHex !== undefined ? Buffer.from(plaintextHex, 'hex') : utf8(plaintext);
  const { ct, tag } = gcm(key, iv, aad, pt);
  // The .NET SDK stores K as the UTF-8 bytes of the blob's base64 text.
  const k = layout === 'A-dotnet' ? utf8(b64(blob)) : blob;
  const msg =
    layout === 'B'
      ? Buffer.concat([leb128(k.length), k, iv, ct, tag])
      : Buffer.concat([iv, tag, leb128(k.length), k, ct]);
  const v = {
    id,
    layout,
    dataKey: b64(key),
    encryptedKeys: b64(blob),
    iv: hex(iv),
    aadHex: aad === undefined ? null : hex(aad),
  };
  if (tenant !== undefined) v.tenant = tenant;
  if (callerAad !== undefined) v.callerAad = callerAad;
  if (fieldParts !== undefined) v.field = fieldParts;
  if (plaintextHex !== undefined) v.plaintextHex = plaintextHex;
  else v.plaintext = plaintext;
  Object.assign(v, { ciphertext: hex(ct), tag: hex(tag), message: b64(msg), source });
  if (note !== undefined) v.note = note;
  return v;
}

const seqKey = Buffer.from([...Array(32).keys()]);
const seqIv = Buffer.from([...Array(12).keys()]);
const testBlob = utf8('test-encrypted-keys');
const wosBlob = (label, n) => Buffer.concat([utf8('WOS.EKM.v1\0'), bytesOf(label, n - 11)]);
const keyA = bytesOf('key/a', 32);
const fieldA = { tenant: 'org_1', namespace: 'users', id: '42', field: 'ssn' };
const fieldAadOf = (p) =>
  `vault-envelope/field/v1${p.tenant === undefined ? '' : `|t=${esc(p.tenant)}`}${p.namespace === undefined ? '' : `|n=${esc(p.namespace)}`}|i=${esc(p.id)}|f=${esc(p.field)}`;
const messageAadOf = (tenant, aad) =>
  Buffer.concat([utf8(`vault-envelope/message/v1|t=${esc(tenant)}|a=`), aad ?? Buffer.alloc(0)]);

const L1 = {
  id: 'legacy-real-api',
  layout: 'legacy',
  dataKey: 'hNjAWl++MJjDZ64dUeYlgJZDEbemRmdKvNHUnnRFUNg=',
  encryptedKeys:
    'V09TLkVLTS52MQAwMjA1ZTBlYy04MjhlLTU1OTQtOTZhYy1hNjhmYzgyNTdmYjcBATEBJGNmMjllNjhhLWYzMmQtNDI4YS05NDg2LTY5YjAyM2JmNjUyNAF0Y2YyOWU2OGEtZjMyZC00MjhhLTk0ODYtNjliMDIzYmY2NTI0uRXneWi4j8iJN4vYJQfGWJVDhk3ogkZmUda857GKGPgneo0xw+M7O5Tg/Z1WbfPPc+C5ncUpj1sHz5LUaU6uSyAO48f4CdpK3dn6UjErRUM=',
  iv: '869d8dd3e84d9dde1f6098a446b7bfd45b4d13becd9f8662d6aefcd620efd9da',
  aadHex: null,
  plaintext: 'secret api key',
  tag: 'b9ce9b0cc97a35553f141763c2d8d757',
  message:
    'hp2N0+hNnd4fYJikRre/1FtNE77Nn4Zi1q781iDv2dq5zpsMyXo1VT8UF2PC2NdXzgFXT1MuRUtNLnYxADAyMDVlMGVjLTgyOGUtNTU5NC05NmFjLWE2OGZjODI1N2ZiNwEBMQEkY2YyOWU2OGEtZjMyZC00MjhhLTk0ODYtNjliMDIzYmY2NTI0AXRjZjI5ZTY4YS1mMzJkLTQyOGEtOTQ4Ni02OWIwMjNiZjY1MjS5Fed5aLiPyIk3i9glB8ZYlUOGTeiCRmZR1rznsYoY+Cd6jTHD4zs7lOD9nVZt889z4LmdxSmPWwfPktRpTq5LIA7jx/gJ2krd2fpSMStFQ5ai/gJ1h2aXp46PyHNJ',
  source: 'workos-go',
  note: 'the associated data was the empty string, which AES-GCM treats as none',
};
L1.ciphertext = hex(
  Buffer.from(L1.message, 'base64').subarray(48 + 1 + 1 + Buffer.from(L1.encryptedKeys, 'base64').length),
);

const checkedNode = 'vault-envelope, checked against @workos-inc/node 11.0.0';
const messages = [
  message({
    id: 'A-short-blob',
    layout: 'A',
    source: checkedNode,
    key: seqKey,
    blob: testBlob,
    iv: seqIv,
    aad: undefined,
    plaintext: 'hello world',
  }),
  message({
    id: 'A-short-blob-aad',
    layout: 'A',
    source: checkedNode,
    key: seqKey,
    blob: testBlob,
    iv: seqIv,
    aad: utf8('context-info'),
    plaintext: 'hello world',
  }),
  message({
    id: 'A-empty-plaintext',
    layout: 'A',
    source: checkedNode,
    key: seqKey,
    blob: testBlob,
    iv: Buffer.alloc(12, 0xff),
    aad: undefined,
    plaintext: '',
  }),
  message({
    id: 'A-workos-blob',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/a', 12),
    aad: utf8('users/42/ssn'),
    plaintext: 'Grüße, 東京 🔐 123-45-6789',
    note: 'a 110-byte blob shaped like the live API’s for a one-entry context',
  }),
  message({
    id: 'A-two-byte-length',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/b', 300),
    iv: bytesOf('iv/b', 12),
    aad: undefined,
    plaintext: 'a blob of 300 bytes: its LEB128 length takes two bytes (ac 02)',
  }),
  message({
    id: 'A-binary-plaintext',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/c', 12),
    aad: undefined,
    plaintextHex: hex(bytesOf('pt/c', 40)),
  }),
  message({
    id: 'A-tenant',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/d', 12),
    aad: messageAadOf('org_1', utf8('users/42/ssn')),
    tenant: 'org_1',
    callerAad: 'users/42/ssn',
    plaintext: '123-45-6789',
    note: 'encrypt(plaintext, { tenant, aad: callerAad }): the message AAD',
  }),
  message({
    id: 'A-tenant-no-aad',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/e', 12),
    aad: messageAadOf('org|%1', undefined),
    tenant: 'org|%1',
    plaintext: 'tenant only, escaped',
    note: 'no caller AAD: the prefix alone; the tenant escaped',
  }),
  message({
    id: 'A-field',
    layout: 'A',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/f', 12),
    aad: utf8(fieldAadOf(fieldA)),
    fieldParts: fieldA,
    plaintext: '123-45-6789',
    note: 'encryptFields: the field AAD, version 1',
  }),
  message({
    id: 'A-dotnet',
    layout: 'A-dotnet',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/g', 12),
    aad: utf8('users/42/ssn'),
    plaintext: 'written as the .NET SDK writes format A',
    note: 'K is the UTF-8 of the blob’s base64 text; encryptedKeys is the blob as the key service issued it',
  }),
  message({
    id: 'B-short-blob',
    layout: 'B',
    source: 'vault-envelope',
    key: seqKey,
    blob: testBlob,
    iv: seqIv,
    aad: undefined,
    plaintext: 'hello world',
    note: 'the layout of the current Go and iOS SDKs',
  }),
  message({
    id: 'B-workos-blob-aad',
    layout: 'B',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/h', 12),
    aad: utf8('users/42/ssn'),
    plaintext: 'format B with associated data',
  }),
  message({
    id: 'legacy-aad',
    layout: 'legacy',
    source: 'vault-envelope',
    key: keyA,
    blob: wosBlob('blob/a', 110),
    iv: bytesOf('iv/i', 32),
    aad: utf8('users/42/ssn'),
    plaintext: 'a 32-byte IV, hashed into the initial counter',
  }),
  L1,
];

const leb = {
  valid: [0, 1, 127, 128, 300, 16383, 16384, 1000000, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1].map((value) => ({
    value,
    hex: hex(leb128(value)),
  })),
  invalid: [
    ['', 'truncated'],
    ['80', 'truncated'],
    ['ffffffff', 'truncated'],
    ['ffffffff10', 'exceeds 32 bits'],
    ['8080808080', 'exceeds 32 bits'],
    ['808080808001', 'exceeds 32 bits'],
    ['8000', 'non-minimal'],
    ['ff00', 'non-minimal'],
    ['8080808000', 'non-minimal'],
  ].map(([h, reason]) => ({ hex: h, reason })),
};

const fieldCases = [
  { tenant: 'org_1', namespace: 'users', id: { string: '42' }, field: 'ssn' },
  { namespace: 'users', id: { number: 42 }, field: 'ssn' },
  { id: { bigint: '42' }, field: 'ssn' },
  { id: { string: 'a|b' }, field: 'x%y' },
  { tenant: 'a|t=b', namespace: '%7C', id: { string: '|i=' }, field: 'f=%' },
  { tenant: 'org_ü', id: { number: -7 }, field: 'ünïcödé 東京' },
  { id: { bigint: '-9007199254740993' }, field: 'big' },
  { id: { number: 0 }, field: 'zero', note: 'also what -0 gives' },
];
const idText = (id) => id.string ?? (id.number !== undefined ? String(id.number) : id.bigint);
const fieldAad = fieldCases.map((c) => {
  const parts = { tenant: c.tenant, namespace: c.namespace, id: idText(c.id), field: c.field };
  const s = fieldAadOf(parts);
  const v = {};
  if (c.tenant !== undefined) v.tenant = c.tenant;
  if (c.namespace !== undefined) v.namespace = c.namespace;
  Object.assign(v, { id: c.id, field: c.field, aad: s, aadHex: hex(utf8(s)), source: 'vault-envelope' });
  if (c.note !== undefined) v.note = c.note;
  return v;
});

const messageAad = [
  { tenant: 'org_1', aad: 'users/42/ssn' },
  { tenant: 'org_1', aad: null },
  { tenant: 'a|b%c', aad: '|a=' },
  { tenant: 'org_東京', aad: 'ünï' },
].map(({ tenant, aad }) => ({
  tenant,
  aad,
  aadHex: hex(messageAadOf(tenant, aad === null ? undefined : utf8(aad))),
  source: 'vault-envelope',
}));

const SALT = utf8('vault-envelope/blind-index/v1');
const TENANT_SALT = utf8('vault-envelope/blind-index/tenant/v1');
const hkdf = (key, salt, info) => Buffer.from(hkdfSync('sha256', key, salt, info, 32));
function truncate(mac, bits) {
  const out = Buffer.from(mac.subarray(0, Math.ceil(bits / 8)));
  if (bits % 8 !== 0) out[out.length - 1] &= (0xff << (8 - (bits % 8))) & 0xff;
  return out;
}
const indexRoot = bytesOf('index/root', 32);
const blindIndex = [
  { key: indexRoot, bits: 64, value: 'ada@example.com' },
  { key: indexRoot, bits: 256, value: 'ada@example.com' },
  { key: indexRoot, bits: 13, value: 'ada@example.com' },
  { key: indexRoot, name: 'users.email', bits: 64, value: 'ada@example.com' },
  { key: indexRoot, name: 'users.email', tenant: 'org_1', bits: 64, value: 'ada@example.com' },
  { key: indexRoot, name: 'users.email', tenant: 'org_2', bits: 64, value: 'ada@example.com' },
  { key: indexRoot, tenant: 'org_1', bits: 32, value: 'ada@example.com' },
  { key: indexRoot, name: 'users.email', version: 2, bits: 64, value: 'ada@example.com' },
  { key: indexRoot, name: 'users.email', tenant: 'org_1', version: 3, bits: 40, value: '東京' },
  { key: bytesOf('index/long', 65), bits: 128, value: '' },
].map((c) => {
  let k = c.name === undefined ? c.key : hkdf(c.key, SALT, utf8(c.name));
  if (c.tenant !== undefined) k = hkdf(k, TENANT_SALT, utf8(c.tenant));
  const mac = createHmac('sha256', k).update(utf8(c.value)).digest();
  const v = { key: hex(c.key) };
  if (c.name !== undefined) v.name = c.name;
  if (c.tenant !== undefined) v.tenant = c.tenant;
  if (c.version !== undefined) v.version = c.version;
  Object.assign(v, {
    bits: c.bits,
    value: c.value,
    index: (c.version === undefined ? '' : `v${c.version}:`) + hex(truncate(mac, c.bits)),
    source: 'vault-envelope',
  });
  return v;
});

const wycheproof = JSON.parse(readFileSync(here('../test/vectors/aes_gcm_test.json'), 'utf8'));
const aesGcm = {
  source: 'wycheproof',
  groups: wycheproof.testGroups
    .filter((g) => g.keySize === 256 && g.tagSize === 128 && (g.ivSize === 96 || g.ivSize === 256))
    .map((g) => ({
      ivSize: g.ivSize,
      tests: g.tests.map((t) => ({
        tcId: t.tcId,
        key: t.key,
        iv: t.iv,
        aad: t.aad,
        msg: t.msg,
        ct: t.ct,
        tag: t.tag,
        result: t.result,
      })),
    })),
};

const file = {
  $comment:
    'Test vectors of @vault-envelope/core: the WorkOS Vault ciphertext layouts (A, the .NET variant of A, legacy, B), the associated-data schemes, LEB128u32 lengths, blind indexes, and the AES-GCM cases we rely on. Fields and provenance: README.md next to this file. Hex is lowercase; base64 is standard with padding.',
  version: 1,
  sources: SOURCES,
  messages,
  leb128: leb,
  fieldAad,
  messageAad,
  blindIndex,
  aesGcm,
};
const text = `${JSON.stringify(file, null, 2)}\n`;
if (process.argv.includes('--check')) {
  const current = readFileSync(OUT, 'utf8');
  if (current !== text) {
    console.error('vectors/vectors.json differs from what scripts/vectors.mjs writes');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  console.log(
    `wrote ${OUT}: ${messages.length} messages, ${fieldAad.length} field AADs, ${messageAad.length} message AADs, ${blindIndex.length} blind indexes, ${leb.valid.length + leb.invalid.length} LEB128 cases, ${aesGcm.groups.reduce((n, g) => n + g.tests.length, 0)} AES-GCM cases`,
  );
}

export { text };
