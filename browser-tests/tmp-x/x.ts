import { gcm } from '../../packages/core/node_modules/@noble/ciphers/aes.js';
export async function run(): Promise<string[]> {
  const out: string[] = [];
  const key = crypto.getRandomValues(new Uint8Array(32));
  const ck = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
  for (const size of [0, 1, 16, 32, 64, 128, 256]) {
    const pt = new Uint8Array(size).fill(3);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = gcm(key, iv).encrypt(pt);
    const time = async (f: () => unknown, ms = 300) => {
      let n = 0; const t0 = performance.now(); let t = t0;
      while (t - t0 < ms) { for (let i = 0; i < 8; i++) await f(); n += 8; t = performance.now(); }
      return ((t - t0) / n) * 1000;
    };
    for (let r = 0; r < 2; r++) {
      const ne = await time(() => gcm(key, iv).encrypt(pt));
      const nd = await time(() => gcm(key, iv).decrypt(sealed));
      const se = await time(() => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, ck, pt));
      const sd = await time(() => crypto.subtle.decrypt({ name: 'AES-GCM', iv }, ck, sealed));
      if (r === 1) out.push(`${size}: noble enc ${ne.toFixed(1)} dec ${nd.toFixed(1)} us | subtle enc ${se.toFixed(1)} dec ${sd.toFixed(1)} us`);
    }
  }
  return out;
}
