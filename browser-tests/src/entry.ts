/**
 * The bundle's entry: the checks, which import core, cache and remote by their public names as a
 * browser or edge application does. The Node side loads the bundle into headless Chromium and into
 * an edge-like `vm` context, calls {@link runAll} there and asserts on the report.
 * @module
 */

export { runAll } from './run-all.js';
export type { CheckConfig, Report } from './types.js';
