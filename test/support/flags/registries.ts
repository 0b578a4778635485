// The registries the flag cases run against, how the executable reaches each of them, and the
// proxies that show what the executable sent (requests in flight, a request abandoned and retried).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { startFaultProxy, type FaultProxy } from '../fault-proxy.ts';
import type { RunningRegistry } from '../registry.ts';
import { sha256 } from './kit.ts';

/** What setup steps need of a registry: its URL and what it takes to get in. */
export type Origin = Pick<RunningRegistry, 'url'> & Partial<Pick<RunningRegistry, 'caFile' | 'clientCert' | 'username' | 'password'>>;

/** One registry as the executable reaches it. */
export interface RegistryAccess {
  /** "open" | "tls" | "mtls" | "htpasswd" */
  name: string;
  /** host:port the executable is given (a proxy's, or a name the tool does not take for loopback) */
  host: string;
  /** Flags that reach it with full access (CA, client certificate, credentials). */
  flags: string[];
  /** stdin for --password-stdin */
  input?: string;
  /** The registry itself, for setup steps that must not depend on the flag under test. */
  origin: Origin;
}

/** How the executable reaches a registry started by test/support/registry.ts. */
export function accessTo(name: string, registry: Origin & { host: string }): RegistryAccess {
  const flags: string[] = [];
  if (registry.caFile) flags.push('--ca-file', registry.caFile);
  if (registry.clientCert) flags.push('--cert-file', registry.clientCert.certFile, '--key-file', registry.clientCert.keyFile);
  if (registry.username) flags.push('--username', registry.username, '--password-stdin');
  return { name, host: registry.host, flags, ...(registry.password ? { input: registry.password } : {}), origin: registry };
}

/** The same registry under another host name (a proxy, 0.0.0.0:PORT). */
export function via(access: RegistryAccess, host: string): RegistryAccess {
  return { ...access, host };
}

/** `flags` without one flag and its value (if it takes one). */
export function without(flags: readonly string[], flag: string, takesValue: boolean): string[] {
  const out = [...flags];
  const at = out.indexOf(flag);
  if (at >= 0) out.splice(at, takesValue ? 2 : 1);
  return out;
}

/** The part of `flags` for one flag: [flag, value] or [flag]. */
export function only(flags: readonly string[], flag: string, takesValue: boolean): string[] {
  const at = flags.indexOf(flag);
  if (at < 0) throw new Error(`${flag} is not among ${flags.join(' ')}`);
  return flags.slice(at, at + (takesValue ? 2 : 1));
}

/** A layer to upload: its bytes, and (as oras writes it) a file name. */
export interface UploadLayer {
  content: string | Buffer;
  title?: string;
  mediaType?: string;
}

/**
 * Uploads an image manifest (config + layers) straight over HTTP: setup that needs no run of the
 * executable, and artifacts other tools make (oras: a file per layer, at its title).
 */
export async function uploadArtifact(
  registry: Origin,
  repository: string,
  tag: string,
  layers: readonly UploadLayer[],
  config: { mediaType: string; content: string } = { mediaType: 'application/vnd.oci.image.config.v1+json', content: '{"architecture":"amd64","os":"linux"}' },
): Promise<string> {
  const dispatcher = new Agent({
    connect: {
      ...(registry.caFile ? { ca: readFileSync(registry.caFile, 'utf8') } : {}),
      ...(registry.clientCert ? { cert: readFileSync(registry.clientCert.certFile, 'utf8'), key: readFileSync(registry.clientCert.keyFile, 'utf8') } : {}),
    },
  });
  const auth: Record<string, string> = registry.username
    ? { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` }
    : {};
  try {
    const blob = async (data: Buffer): Promise<{ digest: string; size: number }> => {
      const digest = sha256(data);
      // POST opens an upload session, PUT with the digest closes it (monolithic upload).
      const started = await request(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: auth, dispatcher });
      await started.body.dump();
      const location = started.headers.location;
      if (started.statusCode !== 202 || typeof location !== 'string') throw new Error(`blob upload to ${repository} answered ${started.statusCode}`);
      const url = new URL(location, registry.url);
      url.searchParams.set('digest', digest);
      const res = await request(url, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(data.byteLength) },
        body: data,
        dispatcher,
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`blob upload to ${repository} answered ${res.statusCode}: ${text}`);
      return { digest, size: data.byteLength };
    };
    const configBlob = await blob(Buffer.from(config.content));
    const described = [];
    for (const layer of layers) {
      described.push({
        mediaType: layer.mediaType ?? 'application/vnd.oci.image.layer.v1.tar',
        ...(await blob(Buffer.from(layer.content))),
        ...(layer.title ? { annotations: { 'org.opencontainers.image.title': layer.title } } : {}),
      });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: config.mediaType, ...configBlob },
        layers: described,
      }),
    );
    const res = await request(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
      dispatcher,
    });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`manifest upload to ${repository}:${tag} answered ${res.statusCode}: ${text}`);
    return sha256(manifest);
  } finally {
    await dispatcher.close();
  }
}

/** oras' config of an artifact without one. */
export const ORAS_EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', content: '{}' };

/** A minimal image (one layer that is no policy): the subject of attach and sign. */
export function uploadImage(registry: Origin, repository: string, tag: string): Promise<string> {
  return uploadArtifact(registry, repository, tag, [{ content: `layer of ${repository}` }]);
}

/** The tags of a repository, read straight from an open registry ([] when it has none). */
export async function registryTags(registry: Origin, repository: string): Promise<string[]> {
  const res = await request(`${registry.url}/v2/${repository}/tags/list`);
  const text = await res.body.text();
  if (res.statusCode === 404) return [];
  if (res.statusCode !== 200) throw new Error(`tags of ${repository} answered ${res.statusCode}: ${text}`);
  return (JSON.parse(text) as { tags?: string[] | null }).tags ?? [];
}

/** A manifest (or a blob as text) of an open registry. */
export async function registryGet(registry: Origin, path: string): Promise<string> {
  const res = await request(`${registry.url}/v2/${path}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /v2/${path} answered ${res.statusCode}: ${text}`);
  return text;
}

/**
 * A proxy that holds each blob request (what is transferred in parallel) for `holdMs` and counts
 * how many are held at once.
 */
export async function inFlightProxy(upstream: Origin, holdMs = 150): Promise<{ proxy: FaultProxy; maxInFlight: () => number }> {
  const proxy = await startFaultProxy({ upstream: upstream.url });
  let inFlight = 0;
  let max = 0;
  proxy.addRule({
    name: 'hold',
    path: /\/blobs\//,
    fault: {
      kind: 'hook',
      run: async () => {
        inFlight++;
        max = Math.max(max, inFlight);
        await sleep(holdMs);
        inFlight--;
      },
    },
  });
  return { proxy, maxInFlight: () => max };
}

/** A proxy that answers the first request only after `delayMs` (the rest at once). */
export async function slowFirstProxy(upstream: Origin, delayMs: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstream: upstream.url });
  proxy.addRule({ name: 'slow', times: 1, fault: { kind: 'hook', run: () => sleep(delayMs) } });
  return proxy;
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/**
 * A proxy whose every manifest is an index listing `null` as a manifest (digest headers right):
 * hostile content the executable does not expect, which it reports as an internal error.
 */
export async function hostileIndexProxy(upstream: Origin): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstream: upstream.url });
  const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [null] });
  proxy.addRule({
    name: 'null-manifest',
    path: /\/manifests\//,
    fault: { kind: 'respond', status: 200, headers: { 'content-type': OCI_INDEX, 'docker-content-digest': sha256(body) }, body },
  });
  return proxy;
}
