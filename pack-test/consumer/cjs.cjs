/**
 * The CommonJS entry of the run-time check: loads the four installed packages, which are
 * ESM-only, with `require()`. Node >= 20.19 loads an ES module synchronously through `require()`
 * when its graph has no top-level `await`; this file proves that holds for every package and
 * its dependencies.
 * @module
 */
'use strict';

const scenario = require('./scenario.cjs');

const modules = {
  core: require('@vault-envelope/core'),
  remote: require('@vault-envelope/remote'),
  cache: require('@vault-envelope/cache'),
  server: require('@vault-envelope/server'),
};

scenario(modules).then(
  (lines) => {
    for (const line of lines) console.log(line);
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
