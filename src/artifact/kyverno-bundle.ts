// Kyverno CEL Policy Bundle format 1.0 (kyverno/kyverno docs/dev/oci/bundle-spec.md): one
// tar+gzip content layer of the input .yaml/.yml files byte for byte, a JSON config holding the
// resource index and sets, reproducible digests. Writer and reader share one document check
// (spec §9: a reader re-runs the writer's validation) and the reference splitter below.
// Pure: files in, bytes out; the file system side is kyverno-bundle-input.ts.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { PolicyOciError } from '../errors.ts';
import { describe } from '../oci/digest.ts';
import { jsonBytes } from '../oci/manifest.ts';
import {
  ANNOTATION_CREATED,
  ANNOTATION_DESCRIPTION,
  ANNOTATION_REVISION,
  ANNOTATION_SOURCE,
  ANNOTATION_TITLE,
  ANNOTATION_VERSION,
  KYVERNO_BUNDLE_CONFIG,
  OCI_MANIFEST,
} from '../oci/mediatypes.ts';
import type { ImageManifest } from '../oci/types.ts';
import type { KubeObject } from '../policy/types.ts';
import { parseDocuments } from '../policy/yaml.ts';
import { compareCodeUnits } from '../util/compare.ts';
import type { Blob, PackedManifest, PolicyEntry } from './pack.ts';
import { createTarGz, printable, readTar, type TarLimits } from './tarball.ts';

export { KYVERNO_BUNDLE_CONFIG };
export const KYVERNO_BUNDLE_CONTENT = 'application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip';
/** The per-layer format of Kyverno CLIs 1.9–1.19, retired for policies.kyverno.io kinds by 1.0. */
export const KYVERNO_LEGACY_CONFIG = 'application/vnd.cncf.kyverno.config.v1+json';
export const KYVERNO_LEGACY_LAYER = 'application/vnd.cncf.kyverno.policy.layer.v1+yaml';
export const BUNDLE_FORMAT_VERSION = '1.0.0';
/** Format versions this writer can emit (a descriptor's spec.formatVersion must be one, exactly). */
export const WRITABLE_FORMAT_VERSIONS = ['1.0.0'];
/** Major versions this reader reads. */
export const READABLE_MAJORS = [1];
export const DESCRIPTOR_FILE = 'kyverno-bundle.yaml';

export const ANNOTATION_FORMAT_VERSION = 'io.kyverno.bundle.format-version';
export const ANNOTATION_BUNDLE_NAME = 'io.kyverno.bundle.name';
export const ANNOTATION_BUNDLE_VERSION = 'io.kyverno.bundle.version';
export const ANNOTATION_KYVERNO_VERSION = 'io.kyverno.bundle.kyverno-version';
const RESERVED_OCI = [ANNOTATION_SOURCE, ANNOTATION_REVISION, ANNOTATION_CREATED, ANNOTATION_VERSION, ANNOTATION_TITLE, ANNOTATION_DESCRIPTION];

/** An annotation key the writer computes (spec §4): never taken from the user. */
export function isReservedAnnotation(key: string): boolean {
  return key.startsWith('io.kyverno.bundle.') || RESERVED_OCI.includes(key);
}

const GROUP = 'policies.kyverno.io';
/** Spec §3: the 11 kinds (value: namespaced) and the accepted versions. */
export const BUNDLE_KINDS: Readonly<Record<string, boolean>> = {
  ValidatingPolicy: false,
  NamespacedValidatingPolicy: true,
  MutatingPolicy: false,
  NamespacedMutatingPolicy: true,
  GeneratingPolicy: false,
  NamespacedGeneratingPolicy: true,
  DeletingPolicy: false,
  NamespacedDeletingPolicy: true,
  ImageValidatingPolicy: false,
  NamespacedImageValidatingPolicy: true,
  PolicyException: true,
};
export const BUNDLE_VERSIONS = ['v1beta1', 'v1'];

/** True for an object the format carries (group policies.kyverno.io, one of the 11 kinds, an accepted version). */
export function isBundleKind(apiVersion: string, kind: string): boolean {
  return Object.hasOwn(BUNDLE_KINDS, kind) && BUNDLE_VERSIONS.some((v) => apiVersion === `${GROUP}/${v}`);
}

export interface BundleFile {
  /** Relative, forward slashes. */
  path: string;
  content: Buffer;
}

export interface IndexEntry {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  path: string;
  documentIndex: number;
  digest: string;
  set: string;
}

export interface BundleSet {
  name: string;
  type: string;
}

export interface BundleConfig {
  formatVersion: string;
  name?: string;
  version?: string;
  description?: string;
  kyvernoVersion?: string;
  source?: { url?: string; revision?: string };
  created?: string;
  sets: BundleSet[];
  resources: IndexEntry[];
}

// ---- The reference splitter (ext/yaml.SplitDocuments over k8s.io/apimachinery's YAMLReader) ----
// Ported rather than approximated: the spec defines document boundaries and digests by that
// implementation's exact behaviour (CRLF → LF, a final newline added, a second back-to-back
// separator kept as text of the next document), which no YAML library reproduces.

/** Go's unicode.IsSpace, for strings.TrimSpace. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE, '');
}

/** The documents of one file as the reference splitter returns them, empty ones (isEmptyDocument) dropped. Throws on an invalid `---` line. */
export function splitDocuments(text: string): string[] {
  // bufio.Reader.ReadLine: lines without "\n" (and a "\r" before it); the LineReader adds "\n".
  const raw = text.split('\n');
  const lines: string[] = [];
  raw.forEach((line, i) => {
    const terminated = i < raw.length - 1;
    if (!terminated && line === '') return;
    lines.push(`${terminated && line.endsWith('\r') ? line.slice(0, -1) : line}\n`);
  });
  const docs: string[] = [];
  let buffer = '';
  for (const line of lines) {
    if (line.startsWith('---')) {
      const trimmed = goTrimSpace(line.slice(3));
      if (trimmed.length > 0 && trimmed[0] !== '#') throw new Error(`invalid YAML document separator: ${printable(trimmed)}`);
      if (buffer.length !== 0) {
        docs.push(buffer);
        buffer = '';
        continue;
      }
    }
    buffer += line;
  }
  if (buffer.length !== 0) docs.push(buffer);
  return docs.filter((d) => !isEmptyDocument(d));
}

/** ext/yaml.IsEmptyDocument (current): blank lines, `#` comments, `---`/`...` markers only. */
export function isEmptyDocument(doc: string): boolean {
  return doc.split('\n').every((l) => commentOrBlank(l) || markerLine(l));
}

function commentOrBlank(l: string): boolean {
  const line = goTrimSpace(l);
  return line === '' || line.startsWith('#');
}

function markerLine(l: string): boolean {
  const line = goTrimSpace(l);
  if (!line.startsWith('---') && !line.startsWith('...')) return false;
  const rest = line.slice(3);
  if (rest === '') return true;
  if (rest[0] !== ' ' && rest[0] !== '\t') return false;
  const after = goTrimSpace(rest);
  return after === '' || after.startsWith('#');
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// ---- The document check writer and reader share (spec §3, §5; writer MUST 4–7, reader MUST 3) ----

/** An index entry (without its set) with the object it names. */
export interface CheckedDocument extends Omit<IndexEntry, 'set'> {
  object: KubeObject;
  /** 1-based line of the document in its file. */
  line: number;
}

function isValidUtf8(content: Buffer): boolean {
  return !content.includes(0) && Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Why a document's raw apiVersion/kind keeps it out of a bundle, or undefined when it belongs. */
function kindProblem(apiVersion: string, kind: string): string | undefined {
  const group = groupOf(apiVersion);
  const what = `${printable(apiVersion)} ${printable(kind)}`;
  if (group === 'cli.kyverno.io') return `${what} is Kyverno CLI configuration (cli.kyverno.io), which a bundle must not hold`;
  if (apiVersion === 'v1' && kind === 'List') return 'a v1 List: format 1.x holds each resource as its own document';
  if (group === 'kyverno.io') return `${what} is a legacy kyverno.io kind, which format 1.0 does not carry (it stays in the per-layer format)`;
  if (group === 'admissionregistration.k8s.io') return `${what} is a Kubernetes admission policy, which format 1.0 does not carry`;
  if (group !== GROUP || !Object.hasOwn(BUNDLE_KINDS, kind)) return `${what} is not one of the 11 policies.kyverno.io kinds format 1.0 carries`;
  if (!BUNDLE_VERSIONS.some((v) => apiVersion === `${GROUP}/${v}`)) return `${what}: apiVersion not accepted (only ${BUNDLE_VERSIONS.map((v) => `${GROUP}/${v}`).join(', ')})`;
  return undefined;
}

function lineOf(text: string, doc: string, from: number): { line: number; next: number } {
  const at = text.indexOf(doc, from);
  if (at < 0) return { line: 1, next: from };
  return { line: text.slice(0, at).split('\n').length, next: at + doc.length };
}

/**
 * Checks every document of every file: split with the reference splitter, each document's raw
 * apiVersion/kind inspected before any loader sees it, then read strictly; identities unique.
 * `writer`: also refuses a document of markers only (an older IsEmptyDocument counts it, so a
 * reader using that one would find an unindexed document).
 */
export function checkDocuments(files: readonly BundleFile[], label: (path: string) => string, writer: boolean): { documents: CheckedDocument[]; problems: string[] } {
  const documents: CheckedDocument[] = [];
  const problems: string[] = [];
  const identities = new Map<string, string>();
  for (const file of files) {
    const name = label(file.path);
    if (!isValidUtf8(file.content)) {
      problems.push(`${name}: not UTF-8 text`);
      continue;
    }
    const text = file.content.toString('utf8');
    let docs: string[];
    try {
      docs = splitDocuments(text);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      continue;
    }
    if (writer) {
      const withMarkers = splitDocumentsKeepingMarkers(text);
      if (withMarkers > docs.length) problems.push(`${name}: holds a document of only "---"/"..." markers (two separators in a row); remove the extra one`);
    }
    let cursor = 0;
    docs.forEach((doc, documentIndex) => {
      const where = lineOf(text, doc, cursor);
      cursor = where.next;
      const at = `${name}: document ${documentIndex} (line ${where.line})`;
      let raw: unknown;
      try {
        const all = parseAllDocuments(doc, { version: '1.1' });
        const list = Array.isArray(all) ? all : [all];
        const errors = list.flatMap((d) => d.errors);
        if (errors.length > 0) throw new Error(errors[0]!.message.split('\n')[0]);
        if (list.length !== 1) throw new Error('holds more than one YAML document (a "..." end marker)');
        raw = list[0]!.toJS({ maxAliasCount: 20 });
      } catch (err) {
        problems.push(`${at}: ${(err as Error).message}`);
        return;
      }
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push(`${at}: not a Kubernetes resource (a ${raw === null ? 'null' : Array.isArray(raw) ? 'list' : typeof raw})`);
        return;
      }
      const r = raw as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      const apiVersion = typeof r.apiVersion === 'string' ? r.apiVersion : '';
      const kind = typeof r.kind === 'string' ? r.kind : '';
      const problem = kindProblem(apiVersion, kind);
      if (problem) {
        problems.push(`${at}: ${problem}`);
        return;
      }
      let object: KubeObject;
      try {
        const parsed = parseDocuments(doc, name);
        if (parsed.length !== 1) throw new Error(`reads as ${parsed.length} documents`);
        object = parsed[0]!.value as KubeObject;
      } catch (err) {
        problems.push(`${at}: ${(err as Error).message}`);
        return;
      }
      const metaName = object.metadata?.name;
      if (typeof metaName !== 'string' || metaName === '') {
        problems.push(`${at}: ${kind} without metadata.name`);
        return;
      }
      const ns = object.metadata.namespace;
      if (ns !== undefined && typeof ns !== 'string') {
        problems.push(`${at}: metadata.namespace is not a string`);
        return;
      }
      const namespace = ns ?? '';
      const identity = `${kind}/${namespace}/${metaName}`;
      const first = identities.get(identity);
      if (first) {
        problems.push(`${at}: ${identity} is already defined at ${first} (identity Kind/namespace/name, whatever the apiVersion)`);
        return;
      }
      identities.set(identity, at);
      documents.push({ object, apiVersion, kind, namespace, name: metaName, path: file.path, documentIndex, digest: sha256(Buffer.from(doc, 'utf8')), line: where.line });
    });
  }
  return { documents, problems };
}

/** How many documents the splitter gives when only blank/comment documents are dropped (the older IsEmptyDocument). */
function splitDocumentsKeepingMarkers(text: string): number {
  // Re-split with the same boundaries; count documents that are not blank/comment only.
  const raw = text.split('\n');
  let count = 0;
  let buffer = '';
  const flush = () => {
    if (buffer !== '' && !buffer.split('\n').every(commentOrBlank)) count++;
    buffer = '';
  };
  raw.forEach((l, i) => {
    const terminated = i < raw.length - 1;
    if (!terminated && l === '') return;
    const line = `${terminated && l.endsWith('\r') ? l.slice(0, -1) : l}\n`;
    if (line.startsWith('---') && buffer !== '') return flush();
    buffer += line;
  });
  flush();
  return count;
}

// ---- Descriptor (kyverno-bundle.yaml, spec §7) ----

export interface BundleDescriptor {
  name?: string;
  version?: string;
  description?: string;
  formatVersion?: string;
  kyvernoVersion?: string;
  source?: { url?: string; revision?: string };
  created?: string;
  sets?: Array<{ name: string; type: 'policies' | 'exceptions'; paths: string[] }>;
  annotations?: Record<string, string>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Reads and checks the descriptor strictly: an unknown field is an error, not ignored. */
export function parseDescriptor(content: Buffer, name: string): BundleDescriptor {
  const bad = (why: string) => new PolicyOciError('INVALID_INPUT', `${name}: ${why}`);
  if (!isValidUtf8(content)) throw bad('not UTF-8 text');
  const docs = parseDocuments(content.toString('utf8'), name);
  if (docs.length !== 1) throw bad(`holds ${docs.length} documents; a descriptor is one PolicyBundle`);
  const d = docs[0]!.value as Record<string, unknown>;
  if (d.apiVersion !== 'cli.kyverno.io/v1alpha1' || d.kind !== 'PolicyBundle') throw bad('must be apiVersion cli.kyverno.io/v1alpha1, kind PolicyBundle');
  for (const k of Object.keys(d)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) throw bad(`unknown field ${printable(k)}`);
  const out: BundleDescriptor = {};
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v === '') throw bad(`${field} must be a non-empty string`);
    return v;
  };
  const meta = (d.metadata ?? {}) as Record<string, unknown>;
  if (meta.name !== undefined) out.name = str(meta.name, 'metadata.name');
  const spec = (d.spec ?? {}) as Record<string, unknown>;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw bad('spec must be a mapping');
  for (const [k, v] of Object.entries(spec)) {
    switch (k) {
      case 'version':
        out.version = str(v, 'spec.version');
        if (!SEMVER.test(out.version)) throw bad(`spec.version ${printable(out.version)} is not a semver version`);
        break;
      case 'description':
        out.description = str(v, 'spec.description');
        break;
      case 'kyvernoVersion':
        out.kyvernoVersion = str(v, 'spec.kyvernoVersion');
        break;
      case 'formatVersion':
        out.formatVersion = str(v, 'spec.formatVersion');
        if (!WRITABLE_FORMAT_VERSIONS.includes(out.formatVersion)) {
          throw bad(`spec.formatVersion ${printable(out.formatVersion)} cannot be written (this writer writes exactly ${WRITABLE_FORMAT_VERSIONS.join(', ')})`);
        }
        break;
      case 'created':
        out.created = str(v, 'spec.created');
        if (!RFC3339.test(out.created) || Number.isNaN(Date.parse(out.created))) throw bad('spec.created must be an RFC 3339 time');
        break;
      case 'source': {
        const s = v as Record<string, unknown>;
        if (!s || typeof s !== 'object' || Object.keys(s).some((x) => x !== 'url' && x !== 'revision')) throw bad('spec.source takes url and revision');
        out.source = {};
        if (s.url !== undefined) out.source.url = str(s.url, 'spec.source.url');
        if (s.revision !== undefined) out.source.revision = str(s.revision, 'spec.source.revision');
        break;
      }
      case 'sets': {
        if (!Array.isArray(v) || v.length === 0) throw bad('spec.sets must be a non-empty list');
        const names = new Set<string>();
        out.sets = v.map((s: Record<string, unknown>, i) => {
          if (!s || typeof s !== 'object' || Object.keys(s).some((x) => !['name', 'type', 'paths'].includes(x))) throw bad(`spec.sets[${i}] takes name, type and paths`);
          const setName = str(s.name, `spec.sets[${i}].name`);
          if (names.has(setName)) throw bad(`spec.sets[${i}]: set ${setName} is named twice`);
          names.add(setName);
          if (s.type !== 'policies' && s.type !== 'exceptions') throw bad(`spec.sets[${i}].type must be policies or exceptions`);
          if (!Array.isArray(s.paths) || s.paths.length === 0 || !s.paths.every((p) => typeof p === 'string' && p !== '')) throw bad(`spec.sets[${i}].paths must be a list of glob patterns`);
          return { name: setName, type: s.type, paths: s.paths as string[] };
        });
        break;
      }
      case 'annotations': {
        if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw bad('spec.annotations must map keys to strings');
        out.annotations = v as Record<string, string>;
        break;
      }
      default:
        throw bad(`unknown field spec.${printable(k)}`);
    }
  }
  return out;
}

/** A glob of spec.sets[].paths as a RegExp: `**` crosses `/`, `*` and `?` do not (hand-written: the dialect is ours to fix, see FORMAT.md). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---- Writer ----

export interface BundleWriteOptions {
  descriptor?: BundleDescriptor;
  /** SOURCE_DATE_EPOCH as given (whole seconds since 1970). */
  sourceDateEpoch?: string;
  /** Further manifest annotations (--annotation): reserved keys are refused. */
  annotations?: Record<string, string>;
}

export function epochToRfc3339(epoch: string): string {
  if (!/^\d{1,12}$/.test(epoch)) throw new PolicyOciError('USAGE', `SOURCE_DATE_EPOCH=${printable(epoch)} is not a whole number of seconds`);
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function assignSets(documents: CheckedDocument[], descriptor: BundleDescriptor | undefined): { sets: BundleSet[]; setOf: string[]; problems: string[]; unused: string[] } {
  const problems: string[] = [];
  if (!descriptor?.sets) {
    // Spec §6: without descriptor sets, by kind.
    const setOf = documents.map((d) => (d.kind === 'PolicyException' ? 'exceptions' : 'policies'));
    const sets = (['policies', 'exceptions'] as const).filter((n) => setOf.includes(n)).map((n) => ({ name: n, type: n }));
    return { sets, setOf, problems, unused: [] };
  }
  const defined = descriptor.sets.map((s) => ({ ...s, res: s.paths.map(globToRegExp) }));
  const setOf = documents.map((d) => {
    const set = defined.find((s) => s.res.some((r) => r.test(d.path)));
    const want = d.kind === 'PolicyException' ? 'exceptions' : 'policies';
    if (!set) problems.push(`${d.path}: document ${d.documentIndex} (${d.kind} ${d.name}) matches the paths of no set of ${DESCRIPTOR_FILE}`);
    else if (set.type !== want) problems.push(`${d.path}: document ${d.documentIndex} (${d.kind} ${d.name}) falls into set ${set.name} of type ${set.type}; a ${d.kind} belongs in a set of type ${want}`);
    return set?.name ?? '';
  });
  const unused = defined.filter((s) => !setOf.includes(s.name)).map((s) => s.name);
  return { sets: descriptor.sets.map((s) => ({ name: s.name, type: s.type })), setOf, problems, unused };
}

export interface WrittenBundle {
  packed: PackedManifest;
  config: BundleConfig;
  documents: CheckedDocument[];
  warnings: string[];
}

/** Files (already checked by checkDocuments) → the bundle manifest, config and content layer. */
export function packKyvernoBundle(files: readonly BundleFile[], documents: CheckedDocument[], options: BundleWriteOptions = {}): WrittenBundle {
  const warnings: string[] = [];
  const d = options.descriptor;
  const pathProblems = writerPathProblems(files);
  if (pathProblems.length) throw new PolicyOciError('INVALID_INPUT', `refused the bundle: ${pathProblems[0]}`, { details: pathProblems });
  if (documents.length === 0) throw new PolicyOciError('INVALID_INPUT', 'the bundle root holds no resource: format 1.0 has no empty bundle');
  const sorted = [...documents].sort((a, b) => compareCodeUnits(a.path, b.path) || a.documentIndex - b.documentIndex);
  const assigned = assignSets(sorted, d);
  if (assigned.problems.length) throw new PolicyOciError('INVALID_INPUT', `${DESCRIPTOR_FILE}: ${assigned.problems[0]}`, { details: assigned.problems });
  for (const s of assigned.unused) warnings.push(`set ${s} of ${DESCRIPTOR_FILE} holds no resource`);
  let created = d?.created;
  if (created === undefined && options.sourceDateEpoch !== undefined) created = epochToRfc3339(options.sourceDateEpoch);

  const config: BundleConfig = { formatVersion: d?.formatVersion ?? BUNDLE_FORMAT_VERSION, sets: assigned.sets, resources: [] };
  if (d?.name !== undefined) config.name = d.name;
  if (d?.version !== undefined) config.version = d.version;
  if (d?.description !== undefined) config.description = d.description;
  if (d?.kyvernoVersion !== undefined) config.kyvernoVersion = d.kyvernoVersion;
  if (d?.source !== undefined) config.source = d.source;
  if (created !== undefined) config.created = created;
  config.resources = sorted.map((doc, i) => ({
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    namespace: doc.namespace,
    name: doc.name,
    path: doc.path,
    documentIndex: doc.documentIndex,
    digest: doc.digest,
    set: assigned.setOf[i]!,
  }));
  // Fixed key order (as written above) and no whitespace: same input, same bytes.
  const configContent = jsonBytes({
    formatVersion: config.formatVersion,
    ...(config.name !== undefined ? { name: config.name } : {}),
    ...(config.version !== undefined ? { version: config.version } : {}),
    ...(config.description !== undefined ? { description: config.description } : {}),
    ...(config.kyvernoVersion !== undefined ? { kyvernoVersion: config.kyvernoVersion } : {}),
    ...(config.source !== undefined ? { source: { ...(config.source.url !== undefined ? { url: config.source.url } : {}), ...(config.source.revision !== undefined ? { revision: config.source.revision } : {}) } } : {}),
    ...(config.created !== undefined ? { created: config.created } : {}),
    sets: config.sets,
    resources: config.resources,
  });

  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d?.annotations ?? {})) {
    if (isReservedAnnotation(k)) warnings.push(`${DESCRIPTOR_FILE}: spec.annotations ${k} is computed by the writer; the descriptor's value is ignored`);
    else annotations[k] = v;
  }
  for (const [k, v] of Object.entries(options.annotations ?? {})) {
    if (isReservedAnnotation(k)) throw new PolicyOciError('USAGE', `--annotation ${k}: this key is computed from ${DESCRIPTOR_FILE} in format 1.0 (set it there)`);
    annotations[k] = v;
  }
  annotations[ANNOTATION_FORMAT_VERSION] = config.formatVersion;
  if (config.name !== undefined) annotations[ANNOTATION_BUNDLE_NAME] = annotations[ANNOTATION_TITLE] = config.name;
  if (config.version !== undefined) annotations[ANNOTATION_BUNDLE_VERSION] = annotations[ANNOTATION_VERSION] = config.version;
  if (config.kyvernoVersion !== undefined) annotations[ANNOTATION_KYVERNO_VERSION] = config.kyvernoVersion;
  if (config.description !== undefined) annotations[ANNOTATION_DESCRIPTION] = config.description;
  if (config.source?.url !== undefined) annotations[ANNOTATION_SOURCE] = config.source.url;
  if (config.source?.revision !== undefined) annotations[ANNOTATION_REVISION] = config.source.revision;
  if (config.created !== undefined) annotations[ANNOTATION_CREATED] = config.created;

  const layerContent = createTarGz(files.map((f) => ({ path: f.path, content: f.content })));
  const layer: Blob = { descriptor: describe(KYVERNO_BUNDLE_CONTENT, layerContent), content: layerContent };
  const configBlob: Blob = { descriptor: describe(KYVERNO_BUNDLE_CONFIG, configContent), content: configContent };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configBlob.descriptor,
    layers: [layer.descriptor],
    annotations: Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => compareCodeUnits(a, b))),
  };
  const content = jsonBytes(manifest);
  const policies: PolicyEntry[] = sorted.map((doc) => ({
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    ...(doc.namespace ? { namespace: doc.namespace } : {}),
    name: doc.name,
    file: doc.path,
    layer: layer.descriptor.digest,
  }));
  return {
    packed: { engine: 'kyverno', descriptor: describe(OCI_MANIFEST, content), content, manifest, blobs: [configBlob, layer], policies },
    config,
    documents: sorted,
    warnings,
  };
}

/** Writer MUST 3 and 8 on the paths themselves (a tree walk cannot give most of these; files from elsewhere can). */
function writerPathProblems(files: readonly BundleFile[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    if (f.path === '' || f.path.startsWith('/') || /^[A-Za-z]:/.test(f.path) || f.path.includes('\\') || f.path.includes('\0')) problems.push(`${printable(f.path)}: not a relative path`);
    else if (parts.includes('..') || parts.includes('.') || parts.includes('')) problems.push(`${printable(f.path)}: has an empty, "." or ".." part`);
    else if (parts.some((p) => p.startsWith('.'))) problems.push(`${printable(f.path)}: hidden paths are not archived`);
    else if (!/\.ya?ml$/.test(f.path)) problems.push(`${printable(f.path)}: only .yaml and .yml files are archived`);
    else if (parts.at(-1) === DESCRIPTOR_FILE) problems.push(`${printable(f.path)}: ${DESCRIPTOR_FILE} is reserved for the descriptor at the bundle root`);
    if (seen.has(f.path)) problems.push(`${printable(f.path)}: twice`);
    seen.add(f.path);
  }
  return problems;
}

// ---- Reader ----

/** True when a manifest claims format 1.0: its config or any layer has a bundle media type. */
export function isKyvernoBundleManifest(manifest: Partial<ImageManifest>): boolean {
  return manifest.config?.mediaType === KYVERNO_BUNDLE_CONFIG || (Array.isArray(manifest.layers) && manifest.layers.some((l) => l?.mediaType === KYVERNO_BUNDLE_CONTENT));
}

const unsafe = (message: string, details?: string[]) => new PolicyOciError('UNSAFE_CONTENT', message, details ? { details } : {});

/** Reader MUST 1 and 7, before anything is fetched. */
export function checkBundleManifest(manifest: Partial<ImageManifest>, digest: string): void {
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  const types = [manifest.config?.mediaType, ...layers.map((l) => l?.mediaType)];
  if (types.includes(KYVERNO_LEGACY_CONFIG) || types.includes(KYVERNO_LEGACY_LAYER)) {
    throw unsafe(
      `manifest ${digest}: legacy image format: it mixes the Kyverno bundle 1.0 media types with the per-layer ones of Kyverno CLIs 1.9–1.19 (${KYVERNO_LEGACY_CONFIG}, ${KYVERNO_LEGACY_LAYER}); republish it from its source files`,
    );
  }
  const malformed = (why: string) => unsafe(`manifest ${digest}: malformed Kyverno bundle 1.0: ${why}`);
  if (manifest.config?.mediaType !== KYVERNO_BUNDLE_CONFIG) throw malformed(`config media type is ${printable(String(manifest.config?.mediaType))}, not ${KYVERNO_BUNDLE_CONFIG}`);
  if (layers.length !== 1) throw malformed(`${layers.length} layers; exactly one is allowed`);
  if (layers[0]?.mediaType !== KYVERNO_BUNDLE_CONTENT) throw malformed(`layers[0] is ${printable(String(layers[0]?.mediaType))}, not ${KYVERNO_BUNDLE_CONTENT}`);
}

/** Reader MUST 6 and the config schema (unknown fields ignored, unknown set types kept). */
export function parseBundleConfig(content: Buffer, digest: string): BundleConfig {
  const bad = (why: string) => unsafe(`config ${digest}: malformed Kyverno bundle 1.0 config: ${why}`);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw bad('not a JSON object');
  if (typeof c.formatVersion !== 'string' || !SEMVER.test(c.formatVersion)) throw bad('formatVersion is missing or not a semver version');
  const major = Number(c.formatVersion.split('.')[0]);
  if (!READABLE_MAJORS.includes(major)) {
    throw unsafe(`config ${digest}: Kyverno bundle format ${printable(c.formatVersion)} is not supported: this reader reads format ${READABLE_MAJORS.map((m) => `${m}.x`).join(', ')} (writes ${WRITABLE_FORMAT_VERSIONS.join(', ')})`);
  }
  if (!Array.isArray(c.sets)) throw bad('sets is missing');
  if (!Array.isArray(c.resources)) throw bad('resources is missing');
  const sets: BundleSet[] = c.sets.map((s: Record<string, unknown>, i) => {
    if (!s || typeof s !== 'object' || typeof s.name !== 'string' || s.name === '' || typeof s.type !== 'string') throw bad(`sets[${i}] needs a name and a type`);
    return { name: s.name, type: s.type };
  });
  if (new Set(sets.map((s) => s.name)).size !== sets.length) throw bad('two sets share a name');
  const resources: IndexEntry[] = c.resources.map((r: Record<string, unknown>, i) => {
    const ok =
      r && typeof r === 'object' &&
      ['apiVersion', 'kind', 'namespace', 'name', 'path', 'digest', 'set'].every((k) => typeof r[k] === 'string') &&
      Number.isSafeInteger(r.documentIndex) && (r.documentIndex as number) >= 0;
    if (!ok) throw bad(`resources[${i}] needs apiVersion, kind, namespace, name, path, documentIndex, digest and set`);
    if (!sets.some((s) => s.name === r.set)) throw bad(`resources[${i}] names set ${printable(String(r.set))}, which sets[] does not define`);
    return { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, path: r.path, documentIndex: r.documentIndex, digest: r.digest, set: r.set } as IndexEntry;
  });
  const out: BundleConfig = { formatVersion: c.formatVersion, sets, resources };
  for (const k of ['name', 'version', 'description', 'kyvernoVersion', 'created'] as const) if (typeof c[k] === 'string') out[k] = c[k];
  if (c.source && typeof c.source === 'object') {
    const s = c.source as Record<string, unknown>;
    out.source = { ...(typeof s.url === 'string' ? { url: s.url } : {}), ...(typeof s.revision === 'string' ? { revision: s.revision } : {}) };
  }
  return out;
}

export interface ReadBundle {
  config: BundleConfig;
  files: BundleFile[];
  documents: CheckedDocument[];
}

/** Reader MUST 2–4 and 8: the archive under the path rules, the writer's checks again, the index cross-check. */
export function readKyvernoBundle(configContent: Buffer, configDigest: string, layerContent: Buffer, label: string, limits: TarLimits): ReadBundle {
  const config = parseBundleConfig(configContent, configDigest);
  const files = readTar(layerContent, label, limits);
  const pathProblems = writerPathProblems(files);
  if (pathProblems.length) throw unsafe(`${label}: refused the Kyverno bundle: ${pathProblems[0]}`, pathProblems.slice(0, 50));
  const { documents, problems } = checkDocuments(files, (p) => `${label}:${printable(p)}`, false);
  if (problems.length) throw unsafe(`${label}: refused the Kyverno bundle: ${problems[0]}`, problems.slice(0, 50));
  if (documents.length === 0) throw unsafe(`${label}: refused the Kyverno bundle: it holds no resource`);
  // Index cross-check (reader MUST 4): one entry per document, matching; every entry resolves.
  const mismatches: string[] = [];
  const byKey = new Map<string, IndexEntry[]>();
  for (const e of config.resources) {
    const key = `${e.path}\0${e.documentIndex}`;
    byKey.set(key, [...(byKey.get(key) ?? []), e]);
  }
  const matched = new Set<string>();
  for (const doc of documents) {
    const key = `${doc.path}\0${doc.documentIndex}`;
    const entries = byKey.get(key) ?? [];
    const where = `${printable(doc.path)} document ${doc.documentIndex}`;
    if (entries.length === 0) mismatches.push(`${where} (${doc.kind} ${doc.name}) has no index entry`);
    else if (entries.length > 1) mismatches.push(`${where} has ${entries.length} index entries`);
    else {
      const e = entries[0]!;
      if (e.digest !== doc.digest) mismatches.push(`${where}: index digest ${printable(e.digest)}, content ${doc.digest}`);
      for (const f of ['apiVersion', 'kind', 'namespace', 'name'] as const) {
        if (e[f] !== doc[f]) mismatches.push(`${where}: index ${f} ${printable(e[f])}, document ${printable(doc[f])}`);
      }
    }
    matched.add(key);
  }
  for (const [key, entries] of byKey) {
    if (!matched.has(key)) for (const e of entries) mismatches.push(`index entry ${e.kind} ${printable(e.name)} (${printable(e.path)} document ${e.documentIndex}) resolves to no archived document`);
  }
  if (mismatches.length) throw unsafe(`${label}: refused the Kyverno bundle: its index does not match its archive: ${mismatches[0]}`, mismatches.slice(0, 50));
  return { config, files, documents };
}
