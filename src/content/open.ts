// Turns a reference (a registry reference, or an OCI layout path) and typed store options into a
// Target and the tags/digest to use.
import { resolve } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { DIGEST_RE } from '../oci/digest.ts';
import { parseReference, referenceString, TAG_RE } from '../reference/reference.ts';
import { credentialChain } from '../registry/credentials.ts';
import type { TransportOptions } from '../registry/transport.ts';
import { OciLayout } from './layout.ts';
import { RemoteRepository } from './remote.ts';
import type { Target } from './types.ts';

export interface OpenedTarget {
  target: Target;
  /** Tags named in the reference (push writes all of them). */
  tags: string[];
  digest?: string;
  /** What to resolve when reading: the digest if given, else the first tag, else "latest". */
  reference: string;
  display: string;
  /** The repository without tag or digest: what `apply --prune` records as the source. */
  repository: string;
}

/** `DIR`, `DIR:tag[,tag]`, `DIR@sha256:…` — the tag is what follows the last ':' after the last '/'. */
export function parseLayoutReference(input: string): { dir: string; tags: string[]; digest?: string } {
  const at = input.lastIndexOf('@');
  if (at > 0 && DIGEST_RE.test(input.slice(at + 1))) return { dir: input.slice(0, at), tags: [], digest: input.slice(at + 1) };
  const slash = input.lastIndexOf('/');
  const colon = input.lastIndexOf(':');
  if (colon > slash && colon > 0 && !/^[A-Za-z]:$/.test(input.slice(0, colon + 1))) {
    const tags = input.slice(colon + 1).split(',');
    for (const t of tags) if (!TAG_RE.test(t)) throw new PolicyOciError('INVALID_REFERENCE', `invalid tag "${t}" in "${input}"`);
    return { dir: input.slice(0, colon), tags };
  }
  return { dir: input, tags: [] };
}

/** Where and how to reach a store: what the registry flags say, typed. */
export interface StoreOptions {
  /** The reference names an OCI image layout directory (DIR:tag or DIR@digest), not a registry. */
  ociLayout?: boolean;
  transport?: TransportOptions;
  /** Credentials given on the command line; otherwise the docker/podman credential chain. */
  credentials?: { username: string; password: string };
  /** Largest manifest read from a registry. */
  maxManifestBytes?: number;
}

export interface OpenOptions {
  push: boolean;
  /** `tags REPO`: a bare repository is fine, a tag or digest is not needed. */
  repositoryOnly?: boolean;
}

export async function openTarget(input: string, store: StoreOptions, options: OpenOptions): Promise<OpenedTarget> {
  if (store.ociLayout) {
    const { dir, tags, digest } = parseLayoutReference(input);
    const effectiveTags = tags.length === 0 && !digest && options.push ? ['latest'] : tags;
    const display = `${dir}${digest ? `@${digest}` : effectiveTags.length ? `:${effectiveTags.join(',')}` : ''}`;
    const target = new OciLayout(resolve(dir));
    return { target, tags: effectiveTags, ...(digest ? { digest } : {}), reference: digest ?? effectiveTags[0] ?? 'latest', display, repository: `oci-layout:${resolve(dir)}` };
  }
  const ref = parseReference(input);
  if (options.push && ref.digest && ref.tags.length === 0) {
    throw new PolicyOciError('USAGE', `push needs a tag, not only a digest: ${input}`);
  }
  const tags = ref.tags.length === 0 && !ref.digest && !options.repositoryOnly ? ['latest'] : ref.tags;
  const target = new RemoteRepository(ref.registry, ref.repository, {
    ...(store.transport ?? {}),
    ...(store.maxManifestBytes !== undefined ? { maxManifestBytes: store.maxManifestBytes } : {}),
    credentials: credentialChain(store.credentials ?? {}),
  });
  const display = referenceString({ ...ref, tags });
  const repository = `${ref.registry}/${ref.repository}`;
  return { target, tags, ...(ref.digest ? { digest: ref.digest } : {}), reference: ref.digest ?? tags[0] ?? 'latest', display, repository };
}
