// login checks the credentials against the registry (GET /v2/ through the full auth flow) before
// storing them, like `docker login`; logout forgets them.
import { PolicyOciError } from '../errors.ts';
import { RegistryClient } from '../registry/client.ts';
import { removeCredentials, saveCredentials, withOrigin } from '../registry/credentials.ts';
import type { TransportOptions } from '../registry/transport.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export interface LoginOptions {
  /** A registry host; a scheme or repository path after it is ignored (`oci://ghcr.io/acme` → ghcr.io). */
  registry: string;
  username: string;
  password: string;
  transport?: TransportOptions;
}

export interface LoginResult {
  registry: string;
  /** Where the credentials were stored (a config file or a credential helper). */
  store: string;
}

export interface LogoutOptions {
  registry: string;
}

export interface LogoutResult {
  registry: string;
  /** False when nothing was stored for the registry. */
  removed: boolean;
}

function normaliseRegistry(input: string): string {
  const host = input.replace(/^(oci|https?):\/\//, '').replace(/\/.*$/, '');
  if (host === '') throw new PolicyOciError('USAGE', `not a registry host: "${input}"`);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export async function login(options: LoginOptions, reporter: Reporter = silentReporter): Promise<LoginResult> {
  const registry = normaliseRegistry(options.registry);
  const credentials = withOrigin({ username: options.username, password: options.password }, { kind: 'login' });
  reporter.progress(`Checking the credentials against ${registry}`);
  const client = new RegistryClient(registry, { ...(options.transport ?? {}), credentials: async () => credentials });
  try {
    await client.request({ method: 'GET', path: '/v2/', scope: [] });
  } finally {
    await client.close();
  }
  return { registry, store: await saveCredentials(registry, credentials) };
}

export async function logout(options: LogoutOptions, _reporter: Reporter = silentReporter): Promise<LogoutResult> {
  const registry = normaliseRegistry(options.registry);
  return { registry, removed: await removeCredentials(registry) };
}
