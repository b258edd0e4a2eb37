// `ciphertext`: the first WorkOS vector of the format guide, in base64. After the block: `info`
// says what the block's comment says.
const ciphertext = 'AAECAwQFBgcICQoLBTAcVkN+I3e5jvOWHCcZKBN0ZXN0LWVuY3J5cHRlZC1rZXlzL2e6d6rFtXT/LfM=';
// ---- block ----
if (
  info.format !== 'A' ||
  info.workosKeyBlob ||
  info.keyBlobHeader !== undefined ||
  info.keyBlobEncoding !== 'binary' ||
  info.ciphertextLength !== 11
) {
  throw new Error(`inspect said ${JSON.stringify({ format: info.format, workosKeyBlob: info.workosKeyBlob })}`);
}
