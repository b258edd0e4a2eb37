// `keys`, `envelope` and `context`, as the getting-started guide sets them up, with
// `requireTenant` on (every call names its tenant, as a multi-tenant application's do).
// Needs: imports, vault.
const keys = cachedKeyProvider(vault, { maxAge: 5 * 60_000 });
const envelope = new Envelope({ keys, requireTenant: true });
const context = { organization_id: 'org_123' };
