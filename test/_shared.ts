// Test helpers shared by the packages' suites (imported by relative path; not a test file).

/**
 * The error `p` rejects with; fails the test when it fulfils instead.
 * @param p - A promise (or a value, awaited as one).
 * @returns What it rejected with.
 */
export async function rejection(p: unknown): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}
