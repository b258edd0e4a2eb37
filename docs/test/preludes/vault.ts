// `vault`: a client of the Vault the environment names (the test's local server), else WorkOS.
// The API key comes from WORKOS_API_KEY. Needs: imports.
const vault = new VaultClient({ baseUrl: process.env.VAULT_BASE_URL ?? 'https://api.workos.com' });
