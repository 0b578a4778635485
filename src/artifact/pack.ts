// Policies → OCI manifests, per FORMAT.md: one manifest per engine (an index over them when there
// are several), config listing every policy, one layer per policy (or one tar+gzip bundle).
// Pure and deterministic: the same set of objects gives the same bytes, whatever the input order.
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import type { Engine } from '../engines/types.ts';
import type { KubeObject, PolicyDocument } from '../policy/types.ts';
import { assignFileNames } from '../policy/naming.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { TOOL_NAME, VERSION } from '../version.ts';
import { describe } from '../oci/digest.ts';
import { ANNOTATION_ENGINE, ANNOTATION_TITLE, OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.ts';
import { createTarGz } from './tarball.ts';
import { jsonBytes } from '../oci/manifest.ts';
import { compareCodeUnits } from '../util/compare.ts';

export interface PackOptions {
  /** One tar+gzip layer per engine instead of one layer per policy. */
  bundle?: boolean;
  /** Manifest (and index) annotations given by the user. */
  annotations?: Record<string, string>;
  /** OCI 1.1 `subject`: the manifest these policies refer to (attach: the image they protect). */
  subject?: Descriptor;
}

export interface Blob {
  descriptor: Descriptor;
  content: Buffer;
}

export interface PolicyEntry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  file: string;
  layer: string;
}

export interface PackedManifest {
  engine: string;
  descriptor: Descriptor;
  content: Buffer;
  manifest: ImageManifest;
  /** Config first, then layers. */
  blobs: Blob[];
  policies: PolicyEntry[];
}

export interface PackedArtifact {
  /** What the tag points at: the single manifest, or the index over several. */
  root: Blob;
  index?: ImageIndex;
  manifests: PackedManifest[];
}

interface Prepared {
  object: KubeObject;
  yaml: Buffer;
}

/** The order of policies in an artifact (and of the files pull writes): kind, namespace, name, apiVersion. */
export function compareIdentity(a: KubeObject, b: KubeObject): number {
  return (
    compareCodeUnits(a.kind, b.kind) ||
    compareCodeUnits(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    compareCodeUnits(a.metadata.name, b.metadata.name) ||
    compareCodeUnits(a.apiVersion, b.apiVersion)
  );
}

function sortPrepared(items: Prepared[]): Prepared[] {
  return [...items].sort((a, b) => compareIdentity(a.object, b.object) || Buffer.compare(a.yaml, b.yaml));
}

function layerAnnotations(engine: Engine, object: KubeObject, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, field] of Object.entries(engine.layerAnnotations)) {
    const value = field === 'apiVersion' ? object.apiVersion : field === 'kind' ? object.kind : object.metadata[field];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  out[ANNOTATION_TITLE] = file;
  return out;
}

function entryFor(object: KubeObject, file: string, layer: string): PolicyEntry {
  const entry: PolicyEntry = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, file, layer };
  if (object.metadata.namespace) entry.namespace = object.metadata.namespace;
  return entry;
}

/** `known`: canonical YAML already written for some of the objects (PolicyDocument.canonical). */
export function packEngine(engine: Engine, objects: KubeObject[], options: PackOptions = {}, known?: ReadonlyMap<KubeObject, string>): PackedManifest {
  const items = sortPrepared(objects.map((object) => ({ object, yaml: Buffer.from(known?.get(object) ?? stringifyCanonical(object), 'utf8') })));
  const files = assignFileNames(items.map((i) => i.object));
  const layers: Blob[] = [];
  const policies: PolicyEntry[] = [];
  if (options.bundle) {
    const content = createTarGz(items.map((item, i) => ({ path: files[i]!, content: item.yaml })));
    const descriptor = describe(engine.mediaTypes.layerTarGzip, content, { [ANNOTATION_TITLE]: `${engine.name}-policies.tar.gz` });
    layers.push({ descriptor, content });
    items.forEach((item, i) => policies.push(entryFor(item.object, files[i]!, descriptor.digest)));
  } else {
    items.forEach((item, i) => {
      const descriptor = describe(engine.mediaTypes.layerYaml, item.yaml, layerAnnotations(engine, item.object, files[i]!));
      layers.push({ descriptor, content: item.yaml });
      policies.push(entryFor(item.object, files[i]!, descriptor.digest));
    });
  }
  const configContent = jsonBytes({ tool: TOOL_NAME, toolVersion: VERSION, engine: engine.name, policies });
  const config = { descriptor: describe(engine.mediaTypes.config, configContent), content: configContent };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
  };
  if (options.subject) manifest.subject = { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size };
  if (options.annotations && Object.keys(options.annotations).length > 0) manifest.annotations = sortedRecord(options.annotations);
  const content = jsonBytes(manifest);
  return {
    engine: engine.name,
    descriptor: describe(OCI_MANIFEST, content),
    content,
    manifest,
    blobs: [config, ...uniqueBlobs(layers)],
    policies,
  };
}

// Two identical policies (same bytes) keep a layer each in the manifest, but are uploaded once.
function uniqueBlobs(blobs: Blob[]): Blob[] {
  const seen = new Set<string>();
  return blobs.filter((b) => (seen.has(b.descriptor.digest) ? false : (seen.add(b.descriptor.digest), true)));
}

function sortedRecord(rec: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => compareCodeUnits(a, b)));
}

/** One engine's manifest as an artifact of its own: the tag points at the manifest. */
export function singleEngine(manifest: PackedManifest): PackedArtifact {
  return { root: { descriptor: manifest.descriptor, content: manifest.content }, manifests: [manifest] };
}

/** Groups documents by engine and packs them; several engines get an index (FORMAT.md rule 2). */
export function packPolicies(docs: PolicyDocument[], engines: Engine[], options: PackOptions = {}): PackedArtifact {
  const byEngine = Map.groupBy(docs, (doc) => doc.engine);
  const canonical = new Map<KubeObject, string>();
  for (const doc of docs) if (doc.canonical !== undefined) canonical.set(doc.object, doc.canonical);
  const manifests = [...byEngine.keys()].sort().map((name) => {
    const engine = engines.find((e) => e.name === name);
    if (!engine) throw new Error(`unknown engine ${name}`);
    return packEngine(engine, byEngine.get(name)!.map((doc) => doc.object), options, canonical);
  });
  if (manifests.length === 1) return singleEngine(manifests[0]!);
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: manifests.map((m) => ({
      ...m.descriptor,
      artifactType: m.manifest.config.mediaType,
      annotations: { [ANNOTATION_ENGINE]: m.engine },
    })),
  };
  if (options.subject) index.subject = { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size };
  if (options.annotations && Object.keys(options.annotations).length > 0) index.annotations = sortedRecord(options.annotations);
  const content = jsonBytes(index);
  return { root: { descriptor: describe(OCI_INDEX, content), content }, index, manifests };
}
