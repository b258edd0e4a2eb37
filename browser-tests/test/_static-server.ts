/**
 * A tiny static server (node:http) for the Chromium run: the page, its module script and the
 * bundle, under a strict Content-Security-Policy (no inline script, no eval, connections only to
 * the Vault servers), as a careful application would serve them.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>vault-envelope browser checks</title>
<script type="module" src="/main.js"></script>
<p>vault-envelope browser checks</p>
</html>
`;

// The page exposes the bundle's runAll to page.evaluate and says when it is ready. The checks
// start from a timer, not inside the evaluate call: DevTools lifts the CSP's eval ban for the
// code it evaluates, and the checks must run under the page's own policy.
const MAIN = `import { runAll } from './bundle.js';
window.vaultEnvelope = {
  runAll: (config) => new Promise((resolve) => setTimeout(resolve, 0)).then(() => runAll(config)),
};
document.title = 'ready';
`;

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the check page and the bundle.
 * @param bundle - The bundle's code, served as `/bundle.js`.
 * @param connectSrc - Origins the page may fetch from (the Vault servers).
 * @returns The server.
 */
export async function serveChecks(bundle: string, connectSrc: string[]): Promise<StaticServer> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src ${connectSrc.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const files = new Map<string, { type: string; body: string }>([
    ['/', { type: 'text/html; charset=utf-8', body: PAGE }],
    ['/main.js', { type: 'text/javascript; charset=utf-8', body: MAIN }],
    ['/bundle.js', { type: 'text/javascript; charset=utf-8', body: bundle }],
  ]);
  const server: Server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (file === undefined || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, {
        'content-type': file.type,
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      })
      .end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
