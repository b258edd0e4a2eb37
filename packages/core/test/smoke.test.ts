import { Envelope, MemoryKeyProvider } from '@vault-envelope/core';
import { expect, test } from 'vitest';

test('round trip through the memory provider', async () => {
  const envelope = new Envelope({ keys: new MemoryKeyProvider() });
  const ct = await envelope.encrypt('hello', { context: { org: 'o1' } });
  expect(await envelope.decryptToString(ct)).toBe('hello');
});
