// `keys`, a cached key provider over `vault`; `emailIndex`, the blind index of users.email (a
// random root key: applications load theirs from Vault); `session`, the request's authenticated
// session (`orgId`, the tenant). Needs: imports, vault.
import { BlindIndex } from '@vault-envelope/core';

const keys = cachedKeyProvider(vault, { maxAge: 5 * 60_000 });
const emailIndex = new BlindIndex({
  key: crypto.getRandomValues(new Uint8Array(32)),
  name: 'users.email',
  normalize: (s) => s.trim().toLowerCase(),
});
const session = { orgId: 'org_1' };
