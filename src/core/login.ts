// login checks the credentials against the registry (GET /v2/ through the full auth flow) before
// storing them, like `docker login`.
import type { RegistryFlags } from '../commands/options.ts';
import { transportOptionsFrom } from '../content/open.ts';
import { PolicyOciError } from '../errors.ts';
import { RegistryClient } from '../registry/client.ts';
import { removeCredentials, saveCredentials } from '../registry/credentials.ts';

function normaliseRegistry(input: string): string {
  const host = input.replace(/^(oci|https?):\/\//, '').replace(/\/.*$/, '');
  if (host === '') throw new PolicyOciError('USAGE', `not a registry host: "${input}"`);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export async function loginToRegistry(input: string, cred: { username: string; password: string }, flags: Partial<RegistryFlags>): Promise<{ registry: string; store: string }> {
  const registry = normaliseRegistry(input);
  const client = new RegistryClient(registry, { ...transportOptionsFrom(flags), credentials: async () => cred });
  try {
    await client.request({ method: 'GET', path: '/v2/', scope: [] });
  } finally {
    await client.close();
  }
  return { registry, store: await saveCredentials(registry, cred) };
}

export async function logoutFromRegistry(input: string): Promise<{ registry: string; removed: boolean }> {
  const registry = normaliseRegistry(input);
  return { registry, removed: await removeCredentials(registry) };
}
