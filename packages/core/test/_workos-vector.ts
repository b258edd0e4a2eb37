// The one type of an entry of vectors/workos_vectors.json (its fields are described in
// vectors/README.md). Dependency-free, so that the browser checks, which decrypt the same
// vectors inside a bundle, can name the same type.

/** One WorkOS vector: a message in format A, B or the legacy layout, with its key and parts. */
export interface WorkosVector {
  name: string;
  format: 'A' | 'B' | 'legacy-iv32';
  /** The data key, base64. */
  data_key: string;
  /** The wrapped key blob K, base64. */
  encrypted_keys: string;
  iv_hex: string;
  plaintext: string;
  /** The AAD, or null for none. */
  aad: string | null;
  tag_hex: string;
  /** The ciphertext without the tag (format A vectors only). */
  ciphertext_hex?: string;
  /** The whole message, base64. */
  ciphertext_b64: string;
}
