// The local server's import. After the block: the block's `server` is closed.
import { startServer } from '@vault-envelope/server';
// ---- block ----
await server.close();
