/**
 * The remote checks, run inside the bundle: a `VaultClient` talking HTTP to the local Vault server
 * (cross-origin in the browser, so through CORS), alone and under `cachedKeyProvider` and an
 * Envelope; the object API; the typed error of a bad API key; and, in the browser, the failure
 * against a server whose CORS is off.
 * @module
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope } from '@vault-envelope/core';
import { NotFoundError, VaultClient, VaultError } from '@vault-envelope/remote';
import { describeError, plainStats } from './_util.js';
import type { RemoteReport, VaultTarget } from './types.js';

const MESSAGES = 10;

async function dataKey(client: VaultClient): Promise<RemoteReport['dataKey']> {
  const created = await client.createDataKey({ organization_id: 'org_remote' });
  const opened = await client.decryptDataKey(created.encryptedKeys);
  const sameKey =
    created.key.length === opened.key.length && created.key.every((b, i) => b === opened.key[i]);
  const report = {
    keyLength: created.key.length,
    encryptedKeysLength: created.encryptedKeys.length,
    sameKey,
    sameId: created.id === opened.id,
  };
  created.key.fill(0);
  opened.key.fill(0);
  return report;
}

async function envelope(client: VaultClient): Promise<RemoteReport['envelope']> {
  const keys = cachedKeyProvider(client, { maxAge: 60_000 });
  const env = new Envelope({ keys });
  const context = { organization_id: 'org_remote' };
  const sealed: string[] = [];
  for (let i = 0; i < MESSAGES; i++)
    sealed.push(await env.encrypt(`secret ${i}`, { context, aad: `r/${i}` }));
  // A second cache has seen none of the keys: its decryptions go to the server.
  const reader = cachedKeyProvider(client, { maxAge: 60_000 });
  const env2 = new Envelope({ keys: reader });
  let allEqual = true;
  for (let i = 0; i < MESSAGES; i++) {
    if ((await env2.decryptToString(sealed[i]!, { aad: `r/${i}` })) !== `secret ${i}`) allEqual = false;
  }
  const stats = plainStats(reader.stats());
  await keys.close();
  await reader.close();
  return { messages: MESSAGES, allEqual, stats };
}

async function objects(client: VaultClient, prefix: string): Promise<RemoteReport['objects']> {
  const name = `${prefix}-object`;
  const meta = await client.createObject({ name, value: 'v1 ✓', context: { organization_id: 'org_remote' } });
  const read = await client.readObjectByName(name);
  const updated = await client.updateObject({
    id: meta.id,
    value: 'v2 ✓',
    versionCheck: read.metadata.versionId ?? '',
  });
  const versions = await client.listObjectVersions({ id: updated.id });
  const updatedValue = (await client.readObject({ id: meta.id })).value;
  await client.deleteObject({ id: meta.id });
  let afterDelete = 'none';
  try {
    await client.readObject({ id: meta.id });
  } catch (e) {
    afterDelete = NotFoundError.is(e) ? `NotFoundError ${e.status}` : describeError(e);
  }
  return {
    created: meta.id.length > 0,
    readValue: read.value,
    updatedValue,
    versions: versions.length,
    afterDelete,
  };
}

async function badKey(target: VaultTarget): Promise<RemoteReport['badKey']> {
  const client = new VaultClient({ apiKey: 'sk_not_a_key', baseUrl: target.url, retry: 0 });
  try {
    await client.createDataKey({ organization_id: 'org_remote' });
    return { error: 'none', status: undefined, hasRequestId: false };
  } catch (e) {
    if (!VaultError.is(e)) return { error: describeError(e), status: undefined, hasRequestId: false };
    return {
      error: e.name,
      status: e.status,
      hasRequestId: typeof e.requestId === 'string' && e.requestId.length > 0,
    };
  }
}

async function corsOff(url: string, apiKey: string): Promise<NonNullable<RemoteReport['corsOff']>> {
  const client = new VaultClient({ apiKey, baseUrl: url, retry: 0 });
  try {
    await client.createDataKey({ organization_id: 'org_remote' });
    return { error: 'none' };
  } catch (e) {
    return { error: VaultError.is(e) ? e.name : describeError(e) };
  }
}

/**
 * Runs the remote checks against the local Vault server.
 * @param target - Where the server is and the API key to use.
 * @returns What came back.
 * @throws Whatever an unexpected failure throws (caught by the caller's `section`).
 * @example
 * ```ts
 * (await remoteChecks({ url, apiKey: 'sk_browser', namePrefix: 'run1' })).dataKey.sameKey; // true
 * ```
 */
export async function remoteChecks(target: VaultTarget): Promise<RemoteReport> {
  const client = new VaultClient({ apiKey: target.apiKey, baseUrl: target.url });
  const report: RemoteReport = {
    dataKey: await dataKey(client),
    envelope: await envelope(client),
    objects: await objects(client, target.namePrefix),
    badKey: await badKey(target),
  };
  if (target.corsOffUrl !== undefined) report.corsOff = await corsOff(target.corsOffUrl, target.apiKey);
  return report;
}
