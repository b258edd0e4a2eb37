/**
 * The ESM entry of the run-time check: loads the four installed packages with `import`, as a
 * `"type": "module"` project does, and runs the shared scenario with them.
 * @module
 */
import * as cache from '@vault-envelope/cache';
import * as core from '@vault-envelope/core';
import * as remote from '@vault-envelope/remote';
import * as server from '@vault-envelope/server';
import scenario from './scenario.cjs';

for (const line of await scenario({ core, remote, cache, server })) console.log(line);
