/**
 * The `vault-envelope-server` command: flags and environment variables to {@link startServer}
 * options, the URL as the first line printed, an access log on stdout, and a graceful stop on
 * SIGINT/SIGTERM (a second signal stops at once).
 *
 * API keys come from a file (`--api-key-file`) or the environment (`VAULT_API_KEYS`): a key given
 * as `--api-key` is in the process's command line, which every user of the machine can read
 * (`ps`, `/proc/PID/cmdline`), so the flag still works but prints a warning.
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
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
  --api-key-file PATH  file of accepted API keys sk_..., one a line (VAULT_API_KEY_FILE)
                       (VAULT_API_KEYS: comma-separated keys); none: a development key is
                       generated and printed
  --api-key KEY        an accepted key, repeatable; visible to every user in ps: prefer the above
  --rate-limit N       requests per minute per key, 0 for none (VAULT_RATE_LIMIT)  default 1000
  --cors               allow browsers from any origin (VAULT_CORS=1)
  --quiet              no access log
  -h, --help           this text

The master key comes from VAULT_MASTER_KEY (base64 of 32 bytes), else from DIR/master.key,
generated there on the first start of a new data directory. One server at a time holds DIR
(through DIR/vault.lock); a second one refuses to start.`;

/**
 * The keys of an API-key file: one a line, surrounding blanks trimmed, empty lines and lines
 * starting with `#` skipped.
 * @param path - The file.
 * @param title - The flag or variable that named it, for messages.
 * @param warnings - Where a warning about the file's mode goes.
 * @returns The keys.
 * @throws Error when the file can not be read or holds no key (the message never quotes it).
 */
function readKeyFile(path: string, title: string, warnings: string[]): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${title} ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0) throw new Error(`${title} ${path} holds no API key`);
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      warnings.push(
        `warning: ${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it`,
      );
    }
  }
  return keys;
}

/**
 * Options from the command line and the environment.
 * @param argv - Arguments after the program name.
 * @param env - The environment.
 * @returns The options, whether help was asked for or the access log turned off, and warnings
 *   to print.
 * @throws TypeError on a bad flag value; Error when an API-key file can not be read.
 */
export function parseCli(
  argv: string[],
  env: Record<string, string | undefined>,
): { options: ServerOptions; help: boolean; quiet: boolean; warnings: string[] } {
  const warnings: string[] = [];
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean' },
      'api-key': { type: 'string', multiple: true },
      'api-key-file': { type: 'string' },
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
  // Flags win over the environment: keys from flags when any is given, else from both variables.
  const keys: string[] = [];
  if (values['api-key'] !== undefined || values['api-key-file'] !== undefined) {
    if (values['api-key'] !== undefined) {
      keys.push(...values['api-key']);
      warnings.push(
        'warning: --api-key puts the key in the command line, which other users can read (ps): ' +
          'use --api-key-file or VAULT_API_KEYS',
      );
    }
    if (values['api-key-file'] !== undefined) {
      keys.push(...readKeyFile(values['api-key-file'], '--api-key-file', warnings));
    }
  } else {
    keys.push(
      ...(env['VAULT_API_KEYS'] ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    );
    const file = env['VAULT_API_KEY_FILE'];
    if (file !== undefined && file !== '') keys.push(...readKeyFile(file, 'VAULT_API_KEY_FILE', warnings));
  }
  if (keys.length > 0) options.apiKeys = keys;
  const masterKey = env['VAULT_MASTER_KEY'];
  if (masterKey !== undefined && masterKey !== '') options.masterKey = masterKey;
  const rate = values['rate-limit'] ?? env['VAULT_RATE_LIMIT'];
  if (rate !== undefined && rate !== '') {
    if (!/^\d+$/.test(rate)) throw new TypeError('--rate-limit must be a whole number');
    options.rateLimit = rate === '0' ? false : { limit: Number(rate), windowMs: 60_000 };
  }
  if (values.cors === true || env['VAULT_CORS'] === '1' || env['VAULT_CORS'] === 'true') options.cors = true;
  return { options, help: values.help === true, quiet: values.quiet === true, warnings };
}

/**
 * Runs the server until SIGINT or SIGTERM.
 * @param argv - Arguments after the program name.
 * @returns When the server has started (it keeps the process alive).
 * @throws TypeError on bad flags; whatever `startServer` throws.
 * @example
 * ```ts
 * await main(['--port', '0', '--memory', '--api-key-file', '/run/secrets/vault-keys']);
 * ```
 */
export async function main(argv: string[]): Promise<void> {
  const { options, help, quiet, warnings } = parseCli(argv, process.env);
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  for (const w of warnings) process.stderr.write(`${w}\n`);
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
