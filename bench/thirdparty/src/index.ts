/**
 * Peer libraries for `@vault-envelope/bench`, behind two small factories. This package is private
 * and exists so that the peers never enter a published package's dependency tree.
 * @module
 */
export { type AwsSdk, type AwsSdkOptions, awsEncryptionSdk } from './aws.js';
export { type WorkosDataKey, type WorkosVault, type WorkosVaultOptions, workosVault } from './workos.js';
