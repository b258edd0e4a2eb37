/**
 * The `vault-envelope-server` command: flags and environment variables to {@link startServer}
 * options, the URL as the first line printed, an access log on stdout, and a graceful stop on
 * SIGINT/SIGTERM (a second signal stops at once).
 * @module
 */
import { parseArgs } from 'node:util';
import type { ServerOptions } from './options.js';
import { startServer } from './server.js';

const HELP = `Usage: vault-envelope-server [options]

A local WorkOS Vault-compatible server on SQLite.

Options (environment variable in brackets):
  --host HOST          interface to listen on (VAULT_HOST)             default 127.0.0.1
  --port PORT          port; 0 picks a free one (VAULT_PORT)          default 8787
  --data-dir DIR       database and master key directory (VAULT_DATA_DIR)  default ./.vault-data
  --memory             keep everything in memory, write no files (VAULT_MEMORY=1)
  --api-key KEY        accepted API key sk_..., repeatable (VAULT_API_KEYS, comma-separated)
                       none: a development key is generated and printed
  --rate-limit N       requests per minute per key, 0 for none (VAULT_RATE_LIMIT)  default 1000
  --cors               allow browsers from any origin (VAULT_CORS=1)
  --quiet              no access log
  -h, --help           this text

The master key comes from VAULT_MASTER_KEY (base64 of 32 bytes), else from DIR/master.key,
generated there on first start.`;

/** Options from the command line and the environment. @throws TypeError on a bad flag value. */
export function parseCli(
  argv: string[],
  env: Record<string, string | undefined>,
): { options: ServerOptions; help: boolean; quiet: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean' },
      'api-key': { type: 'string', multiple: true },
      'rate-limit': { type: 'string' },
      cors: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const options: ServerOptions = {};
  const host = values.host ?? env['VAULT_HOST'];
  if (host !== undefined && host !== '') options.host = host;
  const port = values.port ?? env['VAULT_PORT'];
  if (port !== undefined && port !== '') {
    if (!/^\d{1,5}$/.test(port)) throw new TypeError('--port must be a number from 0 to 65535');
    options.port = Number(port);
  }
  const dataDir = values['data-dir'] ?? env['VAULT_DATA_DIR'];
  if (dataDir !== undefined && dataDir !== '') options.dataDir = dataDir;
  if (values.memory === true || env['VAULT_MEMORY'] === '1' || env['VAULT_MEMORY'] === 'true') {
    options.memory = true;
  }
  const keys =
    values['api-key'] ??
    (env['VAULT_API_KEYS'] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
  if (keys.length > 0) options.apiKeys = keys;
  const masterKey = env['VAULT_MASTER_KEY'];
  if (masterKey !== undefined && masterKey !== '') options.masterKey = masterKey;
  const rate = values['rate-limit'] ?? env['VAULT_RATE_LIMIT'];
  if (rate !== undefined && rate !== '') {
    if (!/^\d+$/.test(rate)) throw new TypeError('--rate-limit must be a whole number');
    options.rateLimit = rate === '0' ? false : { limit: Number(rate), windowMs: 60_000 };
  }
  if (values.cors === true || env['VAULT_CORS'] === '1' || env['VAULT_CORS'] === 'true') options.cors = true;
  return { options, help: values.help === true, quiet: values.quiet === true };
}

/**
 * Runs the server until SIGINT or SIGTERM.
 * @param argv - Arguments after the program name.
 * @returns When the server has started (it keeps the process alive).
 * @throws TypeError on bad flags; whatever `startServer` throws.
 * @example
 * ```ts
 * await main(['--port', '0', '--memory', '--api-key', 'sk_test']);
 * ```
 */
export async function main(argv: string[]): Promise<void> {
  const { options, help, quiet } = parseCli(argv, process.env);
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const generatedKey = options.apiKeys === undefined;
  const server = await startServer({
    ...options,
    log: quiet ? false : (line) => process.stdout.write(`${line}\n`),
  });
  // The URL is the first line, so scripts can read it; then what a developer needs to know.
  process.stdout.write(`${server.url}\n`);
  if (generatedKey) process.stdout.write(`development API key: ${server.apiKeys[0]}\n`);
  else process.stdout.write(`API keys: ${server.apiKeys.length} configured\n`);
  process.stdout.write(
    options.memory === true ? 'storage: in memory\n' : `storage: ${options.dataDir ?? './.vault-data'}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: stopping now\n`);
      process.exit(1);
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
