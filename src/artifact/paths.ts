// The files of artifacts already read and checked by unpack.ts, at the paths the artifacts give
// them: a YAML/JSON layer at its title (org.opencontainers.image.title, oras' and the Kyverno
// CLI's file name), an archive's entries (our --bundle, oras directories, Flux, the Kyverno bundle)
// at their paths inside it. For `pull --preserve-paths`. Paths are returned as given: the caller
// checks them (util/tree.ts safeRelativePath) before anything is written.
import type { Target } from '../content/types.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import { ANNOTATION_TITLE } from '../oci/mediatypes.ts';
import { isImageManifestType, looksLikeIndex, parseManifest } from '../oci/manifest.ts';
import { mapLimit } from '../util/concurrency.ts';
import { DEFAULT_READ_LIMITS, type ReadLimits } from './limits.ts';
import { printable, readTar } from './tarball.ts';

export interface ArtifactFile {
  /** Digest of the layer it came from. */
  layer: string;
  /** The layer's title, or the entry's path in the archive; undefined for a file layer without a title. */
  path?: string;
  content: Buffer;
  /** For messages: the layer (and entry). */
  label: string;
}

/** The files unpack.ts reads out of an archive (the rest of an archive is not policy content). */
const POLICY_FILE = /\.(ya?ml|json)$/i;

function isArchive(content: Buffer): boolean {
  const gzip = content[0] === 0x1f && content[1] === 0x8b;
  const tar = content.length > 262 && content.toString('latin1', 257, 262) === 'ustar';
  return gzip || tar;
}

async function layersOf(target: Target, digest: string): Promise<Descriptor[]> {
  const root = await target.resolve(digest);
  const parsed = parseManifest(await target.fetch(root), `manifest ${root.digest}`) as ImageManifest & ImageIndex;
  if (!looksLikeIndex(parsed, root.mediaType)) return parsed.layers ?? [];
  const layers: Descriptor[] = [];
  for (const child of (parsed.manifests ?? []).filter((d) => isImageManifestType(d.mediaType))) {
    layers.push(...((parseManifest(await target.fetch(child), `manifest ${child.digest}`) as ImageManifest).layers ?? []));
  }
  return layers;
}

/**
 * The files of the layers of `digests` whose digest is in `layers` (those that held the policies
 * wanted), in artifact order. The artifacts must have been read by readArtifact first: it checked
 * every size and count, and every blob fetched here is digest-verified by the Target again.
 */
export async function readArtifactFiles(
  target: Target,
  digests: readonly string[],
  layers: ReadonlySet<string>,
  options: { limits?: ReadLimits; concurrency?: number } = {},
): Promise<ArtifactFile[]> {
  const limits = options.limits ?? DEFAULT_READ_LIMITS;
  const wanted: Descriptor[] = [];
  for (const digest of digests) wanted.push(...(await layersOf(target, digest)).filter((l) => layers.has(l.digest)));
  const contents = new Map<string, Buffer>();
  const unique = [...new Map(wanted.map((l) => [l.digest, l])).values()];
  await mapLimit(unique, options.concurrency ?? 8, async (l) => {
    contents.set(l.digest, await target.fetch(l));
  });
  const files: ArtifactFile[] = [];
  for (const layer of wanted) {
    const content = contents.get(layer.digest)!;
    const title = layer.annotations?.[ANNOTATION_TITLE];
    const label = `layer ${layer.digest.slice(0, 19)}${title ? ` (${printable(title)})` : ''}`;
    if (isArchive(content)) {
      for (const entry of readTar(content, label, limits.tar).filter((e) => POLICY_FILE.test(e.path))) {
        files.push({ layer: layer.digest, path: entry.path, content: entry.content, label: `${label}:${printable(entry.path)}` });
      }
    } else {
      files.push({ layer: layer.digest, ...(title !== undefined ? { path: title } : {}), content, label });
    }
  }
  return files;
}
