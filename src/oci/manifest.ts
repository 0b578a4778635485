// Recognising and reading manifests: the one place that decides "is this a manifest or an index".
import { PolicyOciError } from '../errors.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './mediatypes.ts';
import type { Descriptor, ImageIndex, ImageManifest } from './types.ts';

/** An image manifest (OCI or Docker v2). */
export function isImageManifestType(mediaType: string | undefined): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** An index (OCI image index or Docker manifest list). */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/** Either kind of manifest: stored under /manifests/, not /blobs/. */
export function isManifestType(mediaType: string | undefined): boolean {
  return isImageManifestType(mediaType) || isIndexType(mediaType);
}

/** Canonical JSON bytes of a manifest, index or config as we write them. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses manifest or index bytes; content that is not a JSON object is UNSAFE_CONTENT. */
export function parseManifest(content: Buffer, what: string): Partial<ImageManifest & ImageIndex> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new PolicyOciError('UNSAFE_CONTENT', `${what} is not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PolicyOciError('UNSAFE_CONTENT', `${what} is not a JSON object`);
  return parsed as Partial<ImageManifest & ImageIndex>;
}

/** True when the parsed JSON is an index (by media type, or by shape when the type is missing). */
export function looksLikeIndex(parsed: Partial<ImageManifest & ImageIndex>, mediaType?: string): boolean {
  return isIndexType(parsed.mediaType ?? mediaType) || (Array.isArray(parsed.manifests) && !parsed.layers);
}

/** A manifest's list of descriptors (layers, an index's manifests), each checked for shape: hostile JSON is UNSAFE_CONTENT, never a crash. */
export function descriptorsOf(list: unknown, what: string): Descriptor[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new PolicyOciError('UNSAFE_CONTENT', `${what} is not a list of descriptors`);
  for (const d of list as unknown[]) {
    const desc = d as Partial<Descriptor> | null;
    const wellFormed = !!desc && typeof desc === 'object' && typeof desc.digest === 'string' && (desc.mediaType === undefined || typeof desc.mediaType === 'string');
    if (!wellFormed || !Number.isSafeInteger(desc.size) || desc.size! < 0) {
      throw new PolicyOciError('UNSAFE_CONTENT', `${what} holds a malformed descriptor`);
    }
  }
  return list as Descriptor[];
}
