/**
 * The `#node` subpath import outside Node: no Node helpers. Browsers, workers, edge runtimes and
 * every bundler that targets them get this module (the package's `imports` map gives the `node`
 * condition the Node build), so that the Buffer-based fast paths are not in their bundles; the
 * code that calls them tests for `undefined` and takes its portable path. The interface both
 * builds share is declared here.
 * @module
 */

/** What the Node build adds: Buffer-based codecs and allocation, each holding to our rules. */
export interface NodeHelpers {
  /** Standard base64 with padding. */
  encodeBase64(bytes: Uint8Array): string;
  /**
   * Strict standard base64 (the text already checked to be a multiple of 4 long). `pooled`: the
   * result may be a view into Node's shared Buffer pool (public bytes only); else it is memory of
   * its own.
   * @throws FormatError when the text is not strict standard base64.
   */
  decodeBase64(text: string, title: string, pooled: boolean): Uint8Array;
  /**
   * A strict decoder into `into` (through a Buffer view of it made once): returns how many bytes
   * it wrote at the start of `into`, or -1 when they would not fit (nothing written then).
   * @throws FormatError when the text is not strict standard base64.
   */
  decoderInto(into: Uint8Array): (text: string, title: string) => number;
  /** Length in bytes of the UTF-8 encoding of `text`. */
  utf8Length(text: string): number;
  /** The text of `bytes` when they are all ASCII (one vectorised check), else `undefined`. */
  asciiText(bytes: Uint8Array): string | undefined;
  /** `n` bytes of memory of its own, not zero-filled (the caller writes every byte). */
  allocUnfilled(n: number): Uint8Array;
  /** The runtime's longest string, where its `buffer` module tells it. */
  maxStringLength(): number | undefined;
  /** Whether two byte strings are equal (natively: not in constant time; for public bytes). */
  equal(a: Uint8Array, b: Uint8Array): boolean;
}

/** No Node helpers outside the Node build. */
export const node: NodeHelpers | undefined = undefined;
