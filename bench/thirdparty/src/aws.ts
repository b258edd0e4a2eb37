/**
 * The AWS Encryption SDK for JavaScript v5 (`@aws-crypto/client-node`) set up as the issue asks:
 * a raw AES keyring, the committing suite without signature
 * (`ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY`, 0x0478), and, optionally, its caching materials manager in
 * front of the keyring. Counts the keyring's wrap and unwrap calls, so the benchmark can show
 * that the cache is really hit.
 * @module
 */
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  type EncryptedDataKey,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  type NodeDecryptionMaterial,
  type NodeEncryptionMaterial,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';

/** Options of {@link awsEncryptionSdk}. */
export interface AwsSdkOptions {
  /** The 32-byte wrapping key of the raw AES keyring. Copied. */
  wrappingKey: Uint8Array;
  /** Put the caching materials manager in front of the keyring. */
  cache: boolean;
  /** Cache entry lifetime in milliseconds. @default 300_000 */
  maxAge?: number;
  /** Cache capacity in entries. @default 1000 */
  capacity?: number;
}

/** The peer as the benchmark drives it. */
export interface AwsSdk {
  /** Encrypts one message under the given encryption context. */
  encrypt(plaintext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>;
  /** Decrypts one message and checks nothing beyond what the SDK checks. */
  decrypt(message: Uint8Array): Promise<Uint8Array>;
  /** How often the keyring itself was asked to wrap or unwrap (cache misses). */
  keyringCalls(): { wrap: number; unwrap: number };
}

/**
 * Builds the AWS Encryption SDK contender.
 * @param options - Wrapping key and cache settings.
 * @returns Encrypt and decrypt functions and the keyring call counters.
 * @throws RangeError when the wrapping key is not 32 bytes.
 * @example
 * ```ts
 * const aws = awsEncryptionSdk({ wrappingKey: key, cache: true });
 * const msg = await aws.encrypt(bytes, { tenant: 't1' });
 * ```
 */
export function awsEncryptionSdk(options: AwsSdkOptions): AwsSdk {
  if (options.wrappingKey.length !== 32) throw new RangeError('wrappingKey must be 32 bytes');
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const calls = { wrap: 0, unwrap: 0 };
  // Count the keyring's work in a subclass (the SDK freezes its instances): it runs on every miss.
  class CountingKeyring extends RawAesKeyringNode {
    override async onEncrypt(material: NodeEncryptionMaterial): Promise<NodeEncryptionMaterial> {
      calls.wrap++;
      return super.onEncrypt(material);
    }
    override async onDecrypt(
      material: NodeDecryptionMaterial,
      keys: EncryptedDataKey[],
    ): Promise<NodeDecryptionMaterial> {
      calls.unwrap++;
      return super.onDecrypt(material, keys);
    }
  }
  const keyring = new CountingKeyring({
    keyNamespace: 'vault-envelope-bench',
    keyName: 'kek-1',
    unencryptedMasterKey: Uint8Array.from(options.wrappingKey),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const cmm = options.cache
    ? new NodeCachingMaterialsManager({
        backingMaterials: keyring,
        cache: getLocalCryptographicMaterialsCache(options.capacity ?? 1000),
        maxAge: options.maxAge ?? 300_000,
      })
    : keyring;
  const suiteId = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
  return {
    async encrypt(plaintext, context) {
      const { result } = await encrypt(cmm, plaintext, { suiteId, encryptionContext: context });
      return result;
    },
    async decrypt(message) {
      const { plaintext } = await decrypt(cmm, message);
      return plaintext;
    },
    keyringCalls: () => ({ ...calls }),
  };
}
