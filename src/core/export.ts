// export: read the live policies of a cluster (bookkeeping stripped), then write them as files,
// or pack them exactly as `push` would and push them (or, in a dry run, say what would be pushed).
// Kinds that could not be read are warned about and listed in `skipped`, never silently left out;
// with `strict`, a kind the cluster serves but that could not be read fails the export before
// anything is written or pushed (a backup must not succeed with part of the policies).
import { packPolicies, singleEngine, type PackedArtifact } from '../artifact/pack.ts';
import { checkDocuments, isBundleKind, packKyvernoBundle } from '../artifact/kyverno-bundle.ts';
import { publish, type PublishResult } from '../artifact/publish.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import { findKind, loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { KubeClient } from '../kube/client.ts';
import { parseApiVersions, readLivePolicies, type LiveExport, type SkippedKind } from '../kube/export.ts';
import type { ImageManifest } from '../oci/types.ts';
import { assignFileNames } from '../policy/naming.ts';
import type { KubeObject, PolicyDocument } from '../policy/types.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { writeFilesAtomically } from '../util/files.ts';
import type { KubeOptions } from './apply.ts';
import type { DryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';
import { count } from '../util/plural.ts';
import { indexWarning } from './push.ts';

export interface ExportSelection {
  engines?: string[];
  kinds?: string[];
  /** Only this namespace (namespaced kinds); default every namespace. */
  namespace?: string;
  labelSelector?: string;
}

/** How the live policies are written (export and migrate alike). */
export interface ExportForm {
  /** "group/version" per group (--api-version); other kinds at the version kubectl prefers. */
  apiVersions?: string[];
  /** Drop the fields whose value equals their schema default (--strip-defaults). */
  stripDefaults?: boolean;
}

/** Where the policies go: files in a directory, or an artifact pushed to a reference. */
export type ExportOutput =
  | { directory: string; force: boolean }
  | {
      reference: string;
      store: StoreOptions;
      bundle: boolean;
      annotations: Record<string, string>;
      concurrency?: number;
      dryRun: PushDryRun;
      /** 'bundle-1.0': a Kyverno CEL Policy Bundle 1.0 (every exported policy must be a policies.kyverno.io kind). */
      kyvernoFormat?: 'layers' | 'bundle-1.0';
      /** SOURCE_DATE_EPOCH, for bundle-1.0's creation time. */
      sourceDateEpoch?: string;
    };

/** export writes to no cluster: there is nothing for a server to check. */
export type PushDryRun = Exclude<DryRun, 'server'>;

export interface ExportOptions {
  kube: KubeOptions;
  selection: ExportSelection;
  output: ExportOutput;
  form?: ExportForm;
  /** Fail, writing and pushing nothing, when a kind the cluster serves could not be read. */
  strict?: boolean;
}

interface ExportBase {
  context: string;
  /** "ClusterPolicy.kyverno.io" → the apiVersion its policies were written at. */
  apiVersions: Record<string, string>;
  /** Fields equal to their schema defaults were dropped. */
  defaultsStripped: boolean;
  skipped: SkippedKind[];
  warnings: string[];
}

export interface ExportedFiles extends ExportBase {
  mode: 'files';
  directory: string;
  files: string[];
}

export interface ExportDryRun extends ExportBase {
  mode: 'dry-run';
  reference: string;
  digest: string;
  policies: number;
  manifests: ImageManifest[];
  /** "Kind namespace/name" of each policy, in the order they were read. */
  objects: string[];
}

export interface ExportPushed extends ExportBase, PublishResult {
  mode: 'push';
  reference: string;
  policies: number;
  engines: Array<{ engine: string; digest: string; policies: number }>;
}

export type ExportResult = ExportedFiles | ExportDryRun | ExportPushed;

export async function exportPolicies(options: ExportOptions, reporter: Reporter = silentReporter): Promise<ExportResult> {
  const out = options.output;
  if ('directory' in out) {
    const { live, base } = await readReported(options, reporter);
    reporter.progress(`Writing ${count(live.documents.length, 'policy')} into ${out.directory}`);
    return { mode: 'files', ...base, directory: out.directory, files: await writeLiveFiles(live, out.directory, out.force) };
  }
  // A bad reference fails before the cluster is read (opening it contacts nothing).
  const opened = await openTarget(out.reference, out.store, { push: true });
  const { live, base } = await readReported(options, reporter);
  const packed = packLive(live, out);
  if (packed.index) {
    const message = indexWarning(packed.manifests.map((m) => m.engine), 'export with --engine kyverno for it');
    reporter.warn(message);
    base.warnings.push(message);
  }
  if (out.dryRun === 'client') {
    return {
      mode: 'dry-run',
      ...base,
      reference: opened.display,
      digest: packed.root.descriptor.digest,
      policies: live.documents.length,
      manifests: packed.manifests.map((m) => m.manifest),
      objects: live.documents.map((d) => `${d.object.kind} ${d.object.metadata.namespace ? `${d.object.metadata.namespace}/` : ''}${d.object.metadata.name}`),
    };
  }
  reporter.progress(`Pushing ${count(live.documents.length, 'policy')} to ${opened.display}`);
  const pushed = await publish(opened.target, packed, opened.tags, out.concurrency ? { concurrency: out.concurrency } : {});
  return {
    mode: 'push',
    ...pushed,
    ...base,
    reference: opened.display,
    policies: live.documents.length,
    engines: packed.manifests.map((m) => ({ engine: m.engine, digest: m.descriptor.digest, policies: m.policies.length })),
  };
}

/**
 * Reads the cluster; each kind that could not be read is a warning (and stays in `skipped`), or
 * with `strict` an error when the cluster serves it (its policies would be missing).
 */
async function readReported(options: ExportOptions, reporter: Reporter): Promise<{ live: LivePolicies; base: ExportBase }> {
  const live = await readCluster(options.kube, options.selection, reporter, options.form);
  if (options.strict) refuseHidden(live);
  const { warnings, warn } = collectWarnings(reporter);
  for (const s of live.skipped) warn(`not exported: ${s.kind}: ${s.reason}`);
  for (const g of live.generated) warn(`not exported: ${g.object}: made by a controller from ${g.owner} (export that one: the controller makes this again)`);
  return { live, base: { context: live.context, apiVersions: live.apiVersions, defaultsStripped: options.form?.stripDefaults ?? false, skipped: live.skipped, warnings } };
}

/**
 * The skipped kinds that may hide policies: forbidden, or served only at versions this tool does
 * not read. A kind the cluster does not serve at all (its engine is not installed) holds nothing.
 */
export function hiddenKinds(skipped: readonly SkippedKind[]): SkippedKind[] {
  return skipped.filter((s) => s.cause !== 'not-served');
}

function refuseHidden(live: LivePolicies): void {
  const hidden = hiddenKinds(live.skipped);
  if (hidden.length === 0) return;
  const forbidden = hidden.some((s) => s.cause === 'forbidden');
  throw new PolicyOciError(
    forbidden ? 'DENIED' : 'CLUSTER',
    `--strict: ${hidden.length} kind(s) of context ${live.context} could not be read, so the export would be incomplete; nothing was written or pushed (narrow it with --engine, --kind or -n, or let the user list them)`,
    { details: hidden.map((s) => `${s.kind}: ${s.reason}`) },
  );
}

/** The live policies of a cluster, as documents ready to pack or write. */
export interface LivePolicies {
  context: string;
  server: string;
  documents: PolicyDocument[];
  skipped: SkippedKind[];
  /** Objects a controller made from another policy, left out (kube/export.ts generatedBy). */
  generated: LiveExport['generated'];
  /** "ClusterPolicy.kyverno.io" → the apiVersion its policies were read at. */
  apiVersions: Record<string, string>;
}

export async function readCluster(kube: KubeOptions, selection: ExportSelection, reporter: Reporter, form: ExportForm = {}): Promise<LivePolicies> {
  // --api-version is checked before the cluster is contacted.
  const apiVersions = form.apiVersions?.length ? parseApiVersions(form.apiVersions) : undefined;
  const client = KubeClient.fromKubeconfig(kube);
  try {
    reporter.progress(`Reading the policies of context ${client.contextName}`);
    const live = await readLivePolicies(client, {
      ...(selection.engines?.length ? { engines: selection.engines } : {}),
      ...(selection.kinds?.length ? { kinds: selection.kinds } : {}),
      ...(selection.namespace ? { namespace: selection.namespace } : {}),
      allNamespaces: !selection.namespace,
      ...(selection.labelSelector ? { labelSelector: selection.labelSelector } : {}),
      ...(apiVersions ? { apiVersions } : {}),
      ...(form.stripDefaults ? { stripDefaults: true } : {}),
    });
    const documents = live.objects.map((object, index): PolicyDocument => {
      const found = findKind(object.apiVersion, object.kind);
      if (!found) throw new PolicyOciError('CLUSTER', `the cluster returned ${object.apiVersion}/${object.kind}, which is not a known policy kind`);
      return { object, engine: found.engine.name, source: { file: `${client.contextName}:${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`, index } };
    });
    return { context: client.contextName, server: client.server, documents, skipped: live.skipped, generated: live.generated, apiVersions: live.apiVersions };
  } finally {
    await client.close();
  }
}

/** Packs the live policies as push would; an empty cluster is an error (nothing to push). */
export function packLive(
  live: LivePolicies,
  options: { bundle?: boolean; annotations?: Record<string, string>; kyvernoFormat?: 'layers' | 'bundle-1.0'; sourceDateEpoch?: string },
): PackedArtifact {
  if (live.documents.length === 0) {
    throw new PolicyOciError('NOT_FOUND', `no policies found in context ${live.context}${live.skipped.length ? ` (${live.skipped.length} kind(s) could not be read)` : ''}; nothing was pushed`);
  }
  if (options.kyvernoFormat === 'bundle-1.0') return packLiveBundle(live, options);
  return packPolicies(live.documents, loadEngines(), { bundle: options.bundle ?? false, annotations: options.annotations ?? {} });
}

/**
 * The live policies as a Kyverno CEL Policy Bundle 1.0: one canonical YAML file per policy (the
 * names export --output-dir writes). Policies the format does not carry refuse the export as a
 * whole (nothing silently left out): select the policies.kyverno.io kinds with --kind.
 */
function packLiveBundle(live: LivePolicies, options: { bundle?: boolean; annotations?: Record<string, string>; sourceDateEpoch?: string }): PackedArtifact {
  if (options.bundle) throw new PolicyOciError('USAGE', '--bundle (one tar+gzip per engine, this tool\'s format) and --kyverno-format bundle-1.0 exclude each other');
  const objects = live.documents.map((d) => d.object);
  const other = objects.filter((o) => !isBundleKind(o.apiVersion, o.kind));
  if (other.length > 0) {
    const kinds = [...new Set(other.map((o) => `${o.kind} (${o.apiVersion})`))];
    throw new PolicyOciError(
      'INVALID_INPUT',
      `--kyverno-format bundle-1.0 carries only the policies.kyverno.io kinds, and context ${live.context} gave ${count(other.length, 'other policy', 'other policies')} (${kinds.join(', ')}); nothing was pushed: select the policies.kyverno.io kinds with --kind (e.g. --kind validatingpolicies.policies.kyverno.io), and export the rest without --kyverno-format`,
      { details: other.slice(0, 50).map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`) },
    );
  }
  const names = assignFileNames(objects);
  const files = objects.map((o, i) => ({ path: names[i]!, content: Buffer.from(stringifyCanonical(o), 'utf8') }));
  const checked = checkDocuments(files, (p) => `${live.context}:${p}`, true);
  if (checked.problems.length) throw new PolicyOciError('INVALID_INPUT', `cannot write the live policies as a Kyverno bundle 1.0: ${checked.problems[0]}`, { details: checked.problems.slice(0, 50) });
  return singleEngine(
    packKyvernoBundle(files, checked.documents, {
      annotations: options.annotations ?? {},
      ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
    }).packed,
  );
}

async function writeLiveFiles(live: LivePolicies, dir: string, force: boolean): Promise<string[]> {
  const objects: KubeObject[] = live.documents.map((d) => d.object);
  const names = assignFileNames(objects);
  await writeFilesAtomically(dir, objects.map((o, i) => ({ name: names[i]!, content: stringifyCanonical(o) })), { force });
  return names;
}
