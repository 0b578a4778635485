// The referrers tag schema (distribution-spec 1.1 "backwards compatibility"): where a registry has
// no referrers API, the referrers of manifest <alg>:<hex> are listed by an OCI image index tagged
// `<alg>-<hex>` (truncated to 128 characters). Pure functions; the I/O is in client.ts.
import { describe } from '../oci/digest.ts';
import { OCI_INDEX } from '../oci/mediatypes.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import { PolicyOciError } from '../errors.ts';
import { isDigest } from '../oci/digest.ts';
import { jsonBytes } from '../oci/manifest.ts';

/** `sha256:abc…` → `sha256-abc…` (the tag schema's tag). */
export function referrersTag(digest: string): string {
  if (!isDigest(digest)) throw new PolicyOciError('DIGEST_MISMATCH', `malformed digest "${digest.slice(0, 80)}"`);
  return digest.replace(':', '-').slice(0, 128);
}

/** cosign's tags next to an image: `sha256-<hex>.sig`, `.att`, `.sbom`. */
export function cosignTag(digest: string, suffix: 'sig' | 'att' | 'sbom'): string {
  return `${referrersTag(digest)}.${suffix}`;
}

/** The descriptor a referrers list holds for a manifest: artifactType (else config.mediaType) and annotations. */
export function referrerDescriptor(desc: Descriptor, manifest: Partial<ImageManifest & ImageIndex>): Descriptor {
  const out: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
  if (typeof artifactType === 'string' && artifactType !== '') out.artifactType = artifactType;
  if (manifest.annotations && typeof manifest.annotations === 'object' && Object.keys(manifest.annotations).length > 0) out.annotations = { ...manifest.annotations };
  return out;
}

/** Parses a referrers index (API response or tag-schema index); malformed entries are dropped. */
export function parseReferrersIndex(content: Buffer, what: string): Descriptor[] {
  let parsed: Partial<ImageIndex>;
  try {
    parsed = JSON.parse(content.toString('utf8')) as Partial<ImageIndex>;
  } catch (err) {
    throw new PolicyOciError('REGISTRY', `${what} is not a JSON image index (${(err as Error).message})`);
  }
  if (!parsed || !Array.isArray(parsed.manifests)) throw new PolicyOciError('REGISTRY', `${what} is not an image index (no manifests array)`);
  return parsed.manifests.filter(
    (d): d is Descriptor => !!d && typeof d === 'object' && typeof d.digest === 'string' && isDigest(d.digest) && typeof d.mediaType === 'string' && Number.isSafeInteger(d.size) && d.size >= 0,
  );
}

/** Adds `entry` (replacing an entry of the same digest); every other entry is kept, in order. */
export function mergeReferrer(existing: Descriptor[], entry: Descriptor): Descriptor[] {
  const at = existing.findIndex((d) => d.digest === entry.digest);
  if (at < 0) return [...existing, entry];
  const out = [...existing];
  out[at] = entry;
  return out;
}

/** Union of two lists by digest (first list's order, then new ones): no entry is ever dropped. */
export function unionReferrers(a: Descriptor[], b: Descriptor[]): Descriptor[] {
  const seen = new Set(a.map((d) => d.digest));
  return [...a, ...b.filter((d) => !seen.has(d.digest) && (seen.add(d.digest), true))];
}

export function buildReferrersIndex(entries: Descriptor[]): { descriptor: Descriptor; content: Buffer } {
  const index: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries };
  const content = jsonBytes(index);
  return { descriptor: describe(OCI_INDEX, content), content };
}

/** Client-side artifactType filter (registries may ignore the query parameter). */
export function filterByArtifactType(entries: Descriptor[], artifactTypes: readonly string[] | undefined): Descriptor[] {
  if (!artifactTypes || artifactTypes.length === 0) return entries;
  return entries.filter((d) => d.artifactType !== undefined && artifactTypes.includes(d.artifactType));
}

export { atDigest } from './display.ts';
