// `keys`, `envelope` and `context`, as the getting-started guide sets them up. Needs: imports, vault.
const keys = cachedKeyProvider(vault, { maxAge: 5 * 60_000 });
const envelope = new Envelope({ keys });
const context = { organization_id: 'org_123' };
