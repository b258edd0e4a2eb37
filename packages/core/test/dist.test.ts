// The packages as a Node consumer gets them: built output through the `exports` maps, no vitest
// aliases. `pnpm test` builds before it runs vitest.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const consumer = `${root}examples`; // a workspace package that depends on all four

describe('built output', () => {
  test('@vault-envelope/core imports in plain Node through its exports map and round trips', () => {
    const script = `
      import { Envelope, MemoryKeyProvider } from '@vault-envelope/core';
      const e = new Envelope({ keys: new MemoryKeyProvider() });
      const ct = await e.encrypt('dist ok', { context: { a: 'b' } });
      console.log(await e.decryptToString(ct), e.backend);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('dist ok fast');
  });

  test('core declarations leave out what is marked @internal (stripInternal)', () => {
    const dts = (f: string) => readFileSync(`${root}packages/core/dist/${f}.d.ts`, 'utf8');
    // Still declared: the public members around the stripped ones.
    expect(dts('keys')).toContain('wraps(bytes: Uint8Array): boolean;');
    expect(dts('format')).toContain('export declare function serializeFormatA(');
    // Stripped: the SharedDataKey hooks the Envelope uses, the format and LEB128 internals.
    expect(dts('keys')).not.toMatch(
      /prepared\(|preparedFor|copyEncryptedKeysInto|checkDataKey|sharedPrepared|CheckedDataKey/,
    );
    expect(dts('format')).not.toMatch(/headerLengthA|writeHeaderA|ciphertextBytes/);
    expect(dts('leb128')).not.toMatch(/scanLeb128u32|leb128Error|writeLeb128u32|peekLeb128u32/);
    expect(dts('_bytes')).not.toMatch(/decodePublicBase64|decodeBase64Portable/);
    expect(dts('assert')).not.toContain('copyBytes');
  });

  test('every published declaration file of every package type-checks with skipLibCheck off', () => {
    // stripInternal drops what is marked @internal from the .d.ts files; a declaration that still
    // names a dropped one breaks every typed consumer that checks libraries (test:pack caught
    // two). Errors inside third-party declarations (drizzle-orm's) are theirs, not ours.
    const files = readdirSync(`${root}packages`).flatMap((pkg) => {
      const dir = `${root}packages/${pkg}/dist`;
      if (!existsSync(dir)) return [];
      return readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.d.ts'))
        .map((f) => `packages/${pkg}/dist/${f}`);
    });
    expect(files.length).toBeGreaterThan(50);
    const tsc = `${root}node_modules/typescript/bin/tsc`;
    const args = ['--noEmit', '--skipLibCheck', 'false', '--strict', '--module', 'nodenext'];
    args.push('--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', ...files);
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, ...args], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      output = String((e as { stdout?: unknown }).stdout ?? '');
    }
    const ours = output.split('\n').filter((line) => /^packages\/[^(]+\.d\.ts\(\d+,\d+\): error/.test(line));
    expect(ours).toEqual([]);
  }, 120_000);

  test.each(['core', 'remote', 'cache'])(
    '@vault-envelope/%s has no static node: import or require in dist',
    (pkg) => {
      const dir = `${root}packages/${pkg}/dist`;
      expect(existsSync(dir)).toBe(true);
      const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const js = readFileSync(`${dir}/${f}`, 'utf8');
        expect(js, f).not.toMatch(/from\s+['"]node:|import\(\s*['"]node:|require\(/);
      }
    },
  );
});
