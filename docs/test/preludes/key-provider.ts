// After the block: the interface the block declares is the real `KeyProvider`, in both directions.
// ---- block ----
type RealKeyProvider = import('@vault-envelope/core').KeyProvider;
const toReal = (p: KeyProvider): RealKeyProvider => p;
const fromReal = (p: RealKeyProvider): KeyProvider => p;
