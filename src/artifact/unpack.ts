// Reads policies out of any artifact layout FORMAT.md lists: our own, Kyverno CLI's, the proposed
// Kyverno bundle, karmor's, and plain oras/Flux artifacts of YAML files. Every manifest and blob is
// digest-verified by the Target; sizes and counts are bounded before anything is fetched.
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { findKind, loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import type { KubeObject, Source } from '../policy/types.ts';
import { parseDocuments } from '../policy/yaml.ts';
import { mapLimit } from '../util/concurrency.ts';
import { MAX_NESTING, nestedDeeperThan } from '../util/nesting.ts';
import { DEFAULT_READ_LIMITS, type ReadLimits } from './limits.ts';
import { ANNOTATION_ENGINE, ANNOTATION_TITLE, GENERIC_FILE_LAYERS, GENERIC_TARGZ_LAYERS, OCI_IMAGE_CONFIG } from '../oci/mediatypes.ts';
import { isImageManifestType, looksLikeIndex, parseManifest, descriptorsOf } from '../oci/manifest.ts';
import { printable, readTar } from './tarball.ts';
import { count } from '../util/plural.ts';
import { checkBundleManifest, isKyvernoBundleManifest, readKyvernoBundle, type BundleConfig } from './kyverno-bundle.ts';

export interface FoundPolicy {
  object: KubeObject;
  engine: string;
  source: Source;
  layer: string;
  /** stringifyCanonical(object), when the layer held exactly that (see ParsedDoc.canonical). */
  canonical?: string;
}

export interface ReadManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** Engine named by the index annotation or guessed from the config media type. */
  engine?: string;
  /** A Kyverno bundle 1.0 (kyverno-bundle.ts): its config, read and cross-checked against its archive. */
  kyvernoBundle?: BundleConfig;
}

export interface ReadResult {
  root: Descriptor;
  index?: ImageIndex;
  manifests: ReadManifest[];
  policies: FoundPolicy[];
  warnings: string[];
}

export interface ReadOptions {
  limits?: ReadLimits;
  concurrency?: number;
  /** Called as layers arrive: `done` of `total` layers fetched (for a progress count). */
  onLayer?: (done: number, total: number) => void;
}

type LayerKind = 'file' | 'archive' | 'skip';

function layerKind(mediaType: string): LayerKind {
  for (const engine of loadEngines()) {
    const mt = engine.mediaTypes;
    if ([mt.layerYaml, mt.layerJson, ...mt.acceptedLayers.filter((t) => !t.includes('tar'))].includes(mediaType)) return 'file';
    if (mt.layerTarGzip === mediaType || mt.acceptedLayers.filter((t) => t.includes('tar')).includes(mediaType)) return 'archive';
  }
  if (GENERIC_FILE_LAYERS.includes(mediaType)) return 'file';
  if (GENERIC_TARGZ_LAYERS.includes(mediaType)) return 'archive';
  return 'skip';
}

function engineOfConfig(mediaType: string): string | undefined {
  return loadEngines().find((e) => e.mediaTypes.config === mediaType)?.name;
}


/** Config media types of container images (OCI and Docker): their layers are never policies. */
const CONTAINER_IMAGE_CONFIGS = [OCI_IMAGE_CONFIG, 'application/vnd.docker.container.image.v1+json'];

const POLICY_FILE = /\.(ya?ml|json)$/i;
const TAR_MAGIC_OFFSET = 257;

function looksLikeTar(content: Buffer): boolean {
  return content.length > 262 && content.toString('latin1', TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5) === 'ustar';
}

function looksLikeText(content: Buffer): boolean {
  // A NUL byte or invalid UTF-8 means this is not YAML/JSON, whatever the media type claims.
  if (content.includes(0)) return false;
  return Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}

export async function readArtifact(target: Target, reference: string, options: ReadOptions = {}): Promise<ReadResult> {
  const limits = options.limits ?? DEFAULT_READ_LIMITS;
  const warnings: string[] = [];
  const fetchManifest = async (desc: Descriptor): Promise<Buffer> => {
    if (desc.size > limits.maxManifestBytes) {
      throw new PolicyOciError('LIMIT', `manifest ${desc.digest} is ${desc.size} bytes, above the limit of ${limits.maxManifestBytes} (--max-manifest-size)`);
    }
    return target.fetch(desc);
  };
  // A registry answers the root in one GET; above the limit (or elsewhere) resolve + fetch.
  const fetched = await target.fetchReference?.(reference, limits.maxManifestBytes);
  const root = fetched?.descriptor ?? (await target.resolve(reference));
  const rootContent = fetched?.content ?? (await fetchManifest(root));
  const rootJson = parseManifest(rootContent, `manifest ${root.digest}`) as ImageManifest & ImageIndex;
  const manifests: ReadManifest[] = [];
  let index: ImageIndex | undefined;
  if (looksLikeIndex(rootJson, root.mediaType)) {
    index = rootJson;
    const children = descriptorsOf(rootJson.manifests, `index ${root.digest}`).filter((d) => isImageManifestType(d.mediaType));
    if (children.length > 64) throw new PolicyOciError('LIMIT', `index ${root.digest} lists ${children.length} manifests; at most 64 are read`);
    for (const child of children) {
      const manifest = parseManifest(await fetchManifest(child), `manifest ${child.digest}`) as ImageManifest;
      const entry: ReadManifest = { descriptor: child, manifest };
      const engine = child.annotations?.[ANNOTATION_ENGINE] ?? engineOfConfig(manifest.config?.mediaType ?? '');
      if (engine) entry.engine = engine;
      manifests.push(entry);
    }
  } else {
    const entry: ReadManifest = { descriptor: root, manifest: rootJson };
    const engine = engineOfConfig(rootJson.config?.mediaType ?? '');
    if (engine) entry.engine = engine;
    manifests.push(entry);
  }

  const layers: Descriptor[] = [];
  for (const m of manifests) {
    if (!Array.isArray(m.manifest.layers)) throw new PolicyOciError('UNSAFE_CONTENT', `manifest ${m.descriptor.digest} has no layers array`);
    if (isKyvernoBundleManifest(m.manifest)) {
      // Format 1.0 is read as a whole (config + its one layer), by its own rules, before any fetch.
      checkBundleManifest(m.manifest, m.descriptor.digest);
      m.engine = 'kyverno';
    }
    const config = typeof m.manifest.config?.mediaType === 'string' ? m.manifest.config.mediaType : '';
    if (m.engine === undefined && CONTAINER_IMAGE_CONFIGS.includes(config)) {
      // A container image's layers are file systems, not policy archives: not even fetched.
      warnings.push(`skipped manifest ${m.descriptor.digest}: a container image (config ${printable(config)}), not a policy artifact`);
      continue;
    }
    layers.push(...descriptorsOf(m.manifest.layers, `manifest ${m.descriptor.digest} layers`));
  }
  if (layers.length > limits.maxLayers) {
    throw new PolicyOciError('LIMIT', `the artifact has ${layers.length} layers, above the limit of ${limits.maxLayers} (--max-layers)`);
  }
  let total = 0;
  for (const layer of layers) {
    if (typeof layer.size !== 'number' || layer.size < 0 || layer.size > limits.maxLayerBytes) {
      throw new PolicyOciError('LIMIT', `layer ${layer.digest} declares ${layer.size} bytes, above the limit of ${limits.maxLayerBytes} (--max-layer-size)`);
    }
    total += layer.size;
  }
  if (total > limits.maxTotalBytes) throw new PolicyOciError('LIMIT', `the artifact's layers add up to ${total} bytes, above ${limits.maxTotalBytes}`);

  const policies: FoundPolicy[] = [];
  const bundleLayers = new Set<string>();
  for (const m of manifests.filter((x) => isKyvernoBundleManifest(x.manifest))) {
    const config = m.manifest.config;
    if (typeof config.size !== 'number' || config.size > limits.maxManifestBytes) {
      throw new PolicyOciError('LIMIT', `config ${config.digest} is ${config.size} bytes, above the limit of ${limits.maxManifestBytes} (--max-manifest-size)`);
    }
    const layer = m.manifest.layers[0]!;
    const label = `layer ${layer.digest.slice(0, 19)}`;
    const read = readKyvernoBundle(await target.fetch(config), config.digest, await target.fetch(layer), label, limits.tar);
    m.kyvernoBundle = read.config;
    bundleLayers.add(layer.digest);
    for (const doc of read.documents) {
      policies.push({ object: doc.object, engine: 'kyverno', source: { file: `${label}:${printable(doc.path)}`, index: doc.documentIndex, line: doc.line }, layer: layer.digest });
    }
  }

  // Identical layers (same digest) are fetched once but read once per listing.
  const unique = [...new Map(layers.filter((l) => !bundleLayers.has(l.digest)).map((l) => [l.digest, l])).values()].filter((l) => {
    const kind = layerKind(l.mediaType);
    if (kind === 'skip') warnings.push(`skipped layer ${l.digest} of media type ${printable(l.mediaType)}`);
    return kind !== 'skip';
  });
  const contents = new Map<string, Buffer>();
  options.onLayer?.(0, unique.length);
  await mapLimit(unique, options.concurrency ?? 8, async (l) => {
    contents.set(l.digest, await target.fetch(l));
    options.onLayer?.(contents.size, unique.length);
  });

  const problems: string[] = [];
  for (const layer of unique) {
    const content = contents.get(layer.digest)!;
    const title = layer.annotations?.[ANNOTATION_TITLE];
    const label = `layer ${layer.digest.slice(0, 19)}${title ? ` (${printable(title)})` : ''}`;
    let files: Array<{ name: string; content: Buffer }>;
    if (layerKind(layer.mediaType) === 'archive' || looksLikeTar(content)) {
      files = readTar(content, label, limits.tar)
        .filter((f) => POLICY_FILE.test(f.path))
        .map((f) => ({ name: `${label}:${printable(f.path)}`, content: f.content }));
    } else {
      files = [{ name: label, content }];
    }
    for (const file of files) {
      if (!looksLikeText(file.content)) {
        problems.push(`${file.name}: media type ${printable(layer.mediaType)} claims YAML/JSON but the content is binary`);
        continue;
      }
      let docs;
      try {
        docs = parseDocuments(file.content.toString('utf8'), file.name);
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
        continue;
      }
      for (const doc of docs) {
        if (nestedDeeperThan(doc.value, MAX_NESTING)) {
          problems.push(`${file.name}: document ${doc.index} is nested deeper than ${MAX_NESTING} levels`);
          continue;
        }
        const obj = doc.value as Partial<KubeObject> | null;
        const found = obj && typeof obj === 'object' ? findKind(String(obj.apiVersion ?? ''), String(obj.kind ?? '')) : undefined;
        if (!found || !obj?.metadata || typeof obj.metadata.name !== 'string') {
          const what = obj && typeof obj === 'object' ? `${printable(String(obj.apiVersion ?? '?'))}/${printable(String(obj.kind ?? '?'))}` : typeof obj;
          problems.push(`${file.name}: document ${doc.index} (${what}) is not a policy of a known engine`);
          continue;
        }
        policies.push({ object: obj as KubeObject, engine: found.engine.name, source: { file: file.name, index: doc.index, line: doc.line }, layer: layer.digest, ...(doc.canonical !== undefined ? { canonical: doc.canonical } : {}) });
      }
    }
  }
  if (problems.length > 0) {
    throw new PolicyOciError('UNSAFE_CONTENT', `refused the artifact: ${count(problems.length, 'problem')}, first: ${problems[0]}`, { details: problems.slice(0, 50) });
  }
  const result: ReadResult = { root, manifests, policies, warnings };
  if (index) result.index = index;
  return result;
}
