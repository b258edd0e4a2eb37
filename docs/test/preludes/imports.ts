// The three imports a short block takes for granted.
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
