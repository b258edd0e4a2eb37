/**
 * Runs the local Vault server in its own process for the benchmarks, so that its CPU time is not
 * spent on the event loop being measured (as with a real, remote key service). Talks to the
 * parent over IPC: it sends `{ type: 'ready', url }`, then answers `stats`, `reset` and `close`.
 * @module
 */
import { startServer } from '@vault-envelope/server';

/** A message from the parent. */
interface Request {
  id: number;
  type: 'stats' | 'reset' | 'close';
}

const send = (m: unknown): void => {
  process.send?.(m);
};

try {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    memory: true,
    apiKeys: ['sk_bench'],
    rateLimit: false,
    log: false,
  });
  process.on('message', (m: Request) => {
    if (m.type === 'stats') send({ id: m.id, stats: server.stats() });
    else if (m.type === 'reset') {
      server.resetStats();
      send({ id: m.id });
    } else if (m.type === 'close') {
      void server.close().then(() => {
        send({ id: m.id });
        process.disconnect();
      });
    }
  });
  send({ type: 'ready', url: server.url });
} catch (error) {
  send({ type: 'error', message: (error as Error).message });
  process.exitCode = 1;
  process.disconnect();
}
