// push: read and validate every document first; only then pack and send (or, with a client dry
// run, say what would be sent). Policies of several engines make an image index, unless
// `splitEngines` pushes one artifact per engine, each under its own reference (engineReference).
import { packPolicies, singleEngine, type PackedArtifact } from '../artifact/pack.ts';
import { publish, type PublishResult } from '../artifact/publish.ts';
import { checkDocuments, packKyvernoBundle, parseDescriptor, type BundleConfig } from '../artifact/kyverno-bundle.ts';
import { readBundleRoot } from '../artifact/kyverno-bundle-input.ts';
import { openTarget, parseLayoutReference, type OpenedTarget, type StoreOptions } from '../content/open.ts';
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { loadPolicies } from '../policy/load.ts';
import type { PolicyDocument } from '../policy/types.ts';
import { parseReference, referenceString } from '../reference/reference.ts';
import { count } from '../util/plural.ts';
import type { DryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

export interface PushInput {
  paths: string[];
  skipValidation?: boolean;
  bundle?: boolean;
  annotations?: Record<string, string>;
  /** Reads standard input, for the path "-". */
  readStdin?: () => Promise<string>;
  /** .gitignore patterns of files to leave out (besides each directory's .policyociignore). */
  exclude?: string[];
  /** OCI 1.1 `subject` of the packed manifests (attach: the image the policies protect). */
  subject?: Descriptor;
  /**
   * How policies.kyverno.io policies are written: 'layers' (default: the per-layer format Kyverno
   * CLIs 1.9–1.19 read) or 'bundle-1.0' (Kyverno CEL Policy Bundle 1.0, one bundle root).
   */
  kyvernoFormat?: KyvernoFormat;
  /** SOURCE_DATE_EPOCH (bundle-1.0: the creation time recorded; else none is). */
  sourceDateEpoch?: string;
}

export type KyvernoFormat = 'layers' | 'bundle-1.0';
export const KYVERNO_FORMATS: readonly KyvernoFormat[] = ['layers', 'bundle-1.0'];

export interface PushOptions extends PushInput {
  /** Destination: a registry reference (several tags: `repo:a,b`) or, with store.ociLayout, `DIR:tag`. */
  reference: string;
  store: StoreOptions;
  /** client: pack and return the manifest(s), send nothing. push never writes to a cluster. */
  dryRun?: Exclude<DryRun, 'server'>;
  /** Parallel blob uploads. */
  concurrency?: number;
}

export interface SplitPushOptions extends PushOptions {
  /**
   * One artifact per engine instead of an index over them, each at engineReference(reference):
   * what the engines' own tools (`kyverno oci pull`) read.
   */
  splitEngines: boolean;
}

interface PushedEngines {
  reference: string;
  /** Set when the artifact is a Kyverno CEL Policy Bundle (kyverno-bundle.ts). */
  kyvernoFormat?: 'bundle-1.0';
  policies: number;
  engines: Array<{ engine: string; digest: string; policies: number }>;
  warnings: string[];
}

export interface PublishedPush extends PublishResult, PushedEngines {
  dryRun: 'none';
}

export interface DryRunPush extends PushedEngines {
  dryRun: 'client';
  digest: string;
  /** What the tag would point at (the index when there are several engines). */
  manifest: unknown;
  manifests: unknown[];
}

/** One engine's artifact of a split push (its warnings are the push's). */
export type EngineArtifact = Omit<PublishedPush, 'warnings'> | Omit<DryRunPush, 'warnings'>;

/** A push with splitEngines: one artifact per engine. */
export interface SplitPush {
  split: true;
  dryRun: 'none' | 'client';
  /** The reference as given (with `{engine}`, or the one whose tags got `-<engine>`). */
  reference: string;
  policies: number;
  /** As in a push without the split: each engine's manifest (here the root of its own artifact). */
  engines: PushedEngines['engines'];
  artifacts: EngineArtifact[];
  warnings: string[];
}

export type PushResult = PublishedPush | DryRunPush | SplitPush;

export interface PreparedPush {
  documents: PolicyDocument[];
  packed: PackedArtifact;
  warnings: string[];
  /** bundle-1.0: the config written (resource index and sets). */
  kyvernoBundle?: BundleConfig;
}

/** Where a split push puts one engine's artifact: `{engine}` replaced, or else `-<engine>` added to each tag. */
export const ENGINE_PLACEHOLDER = '{engine}';

/**
 * The reference of one engine's artifact: every `{engine}` in `reference` replaced by the engine's
 * name (`ghcr.io/acme/{engine}-policies:v1`, `repo:v1-{engine}`); without one, each tag gets
 * `-<engine>` (`repo:v1,latest` → `repo:v1-kyverno,latest-kyverno`; no tag is `latest`).
 */
export function engineReference(reference: string, engine: string, ociLayout = false): string {
  if (reference.includes(ENGINE_PLACEHOLDER)) return reference.split(ENGINE_PLACEHOLDER).join(engine);
  const suffixed = (tags: string[]) => (tags.length ? tags : ['latest']).map((t) => `${t}-${engine}`);
  const noDigest = () =>
    new PolicyOciError('USAGE', `--split-engines pushes a new artifact per engine: give tags, not a digest (${reference})`);
  if (ociLayout) {
    const { dir, tags, digest } = parseLayoutReference(reference);
    if (digest) throw noDigest();
    return `${dir}:${suffixed(tags).join(',')}`;
  }
  const ref = parseReference(reference);
  if (ref.digest) throw noDigest();
  return referenceString({ registry: ref.registry, repository: ref.repository, tags: suffixed(ref.tags) });
}

/**
 * Reads, validates and packs: one error lists every problem, and nothing is packed while any input
 * is bad. Warnings are said through `reporter` as they arise (a file skipped on purpose before the
 * refusal of another), and returned.
 */
/** What a push or export of several engines' policies says: the index it makes is invisible to the Kyverno CLI. */
export function indexWarning(engines: readonly string[], remedy: string): string {
  return (
    `policies of ${count(engines.length, 'engine')} (${engines.join(', ')}) make an image index: this tool, oras and crane read it, ` +
    `but the Kyverno CLI reads only single-engine artifacts (\`kyverno oci pull\` writes nothing from an index); ${remedy}`
  );
}

export async function preparePush(input: PushInput, reporter: Reporter = silentReporter): Promise<PreparedPush> {
  if (input.kyvernoFormat === 'bundle-1.0') return prepareBundlePush(input, reporter);
  const { warnings, warn } = collectWarnings(reporter);
  const loaded = await loadPolicies(input.paths, {
    validate: !input.skipValidation,
    onWarning: warn,
    ...(input.readStdin ? { stdin: input.readStdin } : {}),
    ...(input.exclude?.length ? { exclude: input.exclude } : {}),
    onProgress: (done, total) => reporter.progress(`Checking files: ${done}/${total}`),
  });
  for (const doc of loaded) for (const w of doc.warnings ?? []) warn(w);
  if (loaded.length === 0) throw new PolicyOciError('INVALID_INPUT', `no policy found in ${input.paths.join(', ')}`);
  const packed = packPolicies(loaded, loadEngines(), { bundle: input.bundle ?? false, annotations: input.annotations ?? {}, ...(input.subject ? { subject: input.subject } : {}) });
  return { documents: loaded, packed, warnings };
}

/**
 * Kyverno bundle 1.0: one bundle root (a directory or one file) archived as it is. Every document
 * must be one of the 11 policies.kyverno.io kinds: a mixed set is refused as a whole, naming what
 * stays in the per-layer format (pushed without --kyverno-format, from another directory).
 */
async function prepareBundlePush(input: PushInput, reporter: Reporter): Promise<PreparedPush> {
  const { warnings, warn } = collectWarnings(reporter);
  if (input.paths.length !== 1 || input.paths[0] === '-') {
    throw new PolicyOciError('USAGE', '--kyverno-format bundle-1.0 archives one bundle root: give exactly one directory or file (not stdin)');
  }
  if (input.bundle) throw new PolicyOciError('USAGE', '--bundle (one tar+gzip per engine, this tool\'s format) and --kyverno-format bundle-1.0 exclude each other');
  if (input.exclude?.length) throw new PolicyOciError('USAGE', '--exclude does not apply to --kyverno-format bundle-1.0: the format archives every .yaml/.yml file of the bundle root (hidden paths are skipped)');
  if (input.subject) throw new PolicyOciError('USAGE', 'a Kyverno bundle 1.0 has no subject (the format forbids it)');
  const rootPath = input.paths[0]!;
  const root = await readBundleRoot(rootPath);
  const descriptor = root.descriptor ? parseDescriptor(root.descriptor.content, root.descriptor.path) : undefined;
  const checked = checkDocuments(root.files, (p) => `${rootPath.replace(/\/+$/, '')}/${p}`, true);
  if (checked.problems.length) {
    throw new PolicyOciError('INVALID_INPUT', `refused the bundle root ${rootPath}: ${count(checked.problems.length, 'problem')}, first: ${checked.problems[0]}`, { details: checked.problems.slice(0, 50) });
  }
  if (checked.documents.length === 0) throw new PolicyOciError('INVALID_INPUT', `no policy found in ${rootPath}: a Kyverno bundle 1.0 needs at least one resource`);
  // The schema check every push makes (the same objects, read again by the loader).
  const loaded = await loadPolicies(root.absolute, {
    validate: !input.skipValidation,
    onWarning: warn,
    onProgress: (done, total) => reporter.progress(`Checking files: ${done}/${total}`),
  });
  for (const doc of loaded) for (const w of doc.warnings ?? []) warn(w);
  const written = packKyvernoBundle(root.files, checked.documents, {
    ...(descriptor ? { descriptor } : {}),
    ...(input.sourceDateEpoch !== undefined ? { sourceDateEpoch: input.sourceDateEpoch } : {}),
    annotations: input.annotations ?? {},
  });
  for (const w of written.warnings) warn(w);
  return { documents: loaded, packed: singleEngine(written.packed), warnings, kyvernoBundle: written.config };
}

export function push(options: PushOptions, reporter?: Reporter): Promise<PublishedPush | DryRunPush>;
export function push(options: SplitPushOptions, reporter?: Reporter): Promise<PushResult>;
export async function push(options: PushOptions & { splitEngines?: boolean }, reporter: Reporter = silentReporter): Promise<PushResult> {
  if (options.reference.includes(ENGINE_PLACEHOLDER) && !options.splitEngines) {
    throw new PolicyOciError('USAGE', `${ENGINE_PLACEHOLDER} in the reference is for one artifact per engine (--split-engines)`);
  }
  // The reference is checked (a tag to write, a valid name) before the files are read: with
  // splitEngines, every engine's.
  const opened = options.splitEngines
    ? new Map(await Promise.all(loadEngines().map(async (e) => [e.name, await openTarget(engineReference(options.reference, e.name, options.store.ociLayout), options.store, { push: true })] as const)))
    : new Map([['', await openTarget(options.reference, options.store, { push: true })]]);
  reporter.progress('Checking files');
  const prepared = await preparePush(options, reporter);
  const { warnings, warn } = collectWarnings(reporter);
  warnings.push(...prepared.warnings);
  const { packed } = prepared;
  if (!options.splitEngines) {
    const target = opened.get('')!;
    if (packed.index) {
      // Worded without the destination, so the same files give the same warnings wherever they go.
      const engines = packed.manifests.map((m) => m.engine);
      warn(indexWarning(engines, `--split-engines pushes one artifact per engine instead (each tag with ${engines.map((e) => `-${e}`).join(' or ')} added, or ${ENGINE_PLACEHOLDER} in the reference replaced)`));
    }
    const format = prepared.kyvernoBundle ? { kyvernoFormat: 'bundle-1.0' as const } : {};
    return { ...(await pushOne(target, packed, options, reporter)), ...format, warnings };
  }
  const artifacts: EngineArtifact[] = [];
  for (const m of packed.manifests) artifacts.push(await pushOne(opened.get(m.engine)!, singleEngine(m), options, reporter));
  return {
    split: true,
    dryRun: options.dryRun === 'client' ? 'client' : 'none',
    reference: options.reference,
    policies: prepared.documents.length,
    engines: artifacts.flatMap((a) => a.engines),
    artifacts,
    warnings,
  };
}

/** Pushes (or with a client dry run, describes) one packed artifact at `opened`. */
async function pushOne(opened: OpenedTarget, packed: PackedArtifact, options: PushOptions, reporter: Reporter): Promise<EngineArtifact> {
  const policies = packed.manifests.reduce((n, m) => n + m.policies.length, 0);
  const contents = {
    policies,
    engines: packed.manifests.map((m) => ({ engine: m.engine, digest: m.descriptor.digest, policies: m.policies.length })),
  };
  if (options.dryRun === 'client') {
    return {
      reference: opened.display,
      dryRun: 'client',
      digest: packed.root.descriptor.digest,
      manifest: JSON.parse(packed.root.content.toString('utf8')) as unknown,
      manifests: packed.manifests.map((m) => m.manifest),
      ...contents,
    };
  }
  reporter.progress(`Pushing ${count(policies, 'policy')} to ${opened.display}`);
  const published = await publish(opened.target, packed, opened.tags, {
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    onProgress: (done, total) => reporter.progress(`Pushing blobs to ${opened.display}: ${done}/${total}`),
  });
  return { reference: opened.display, dryRun: 'none', ...published, ...contents };
}
