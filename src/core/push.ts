// push: read and validate every document first; only then pack and send (or, with a client dry
// run, say what would be sent).
import { packPolicies, type PackedArtifact } from '../artifact/pack.ts';
import { publish, type PublishResult } from '../artifact/publish.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { loadPolicies } from '../policy/load.ts';
import type { PolicyDocument } from '../policy/types.ts';
import type { DryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

export interface PushInput {
  paths: string[];
  skipValidation?: boolean;
  bundle?: boolean;
  annotations?: Record<string, string>;
  /** Reads standard input, for the path "-". */
  readStdin?: () => Promise<string>;
}

export interface PushOptions extends PushInput {
  /** Destination: a registry reference (several tags: `repo:a,b`) or, with store.ociLayout, `DIR:tag`. */
  reference: string;
  store: StoreOptions;
  /** client: pack and return the manifest(s), send nothing. push never writes to a cluster. */
  dryRun?: Exclude<DryRun, 'server'>;
  /** Parallel blob uploads. */
  concurrency?: number;
}

interface PushedEngines {
  reference: string;
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

export type PushResult = PublishedPush | DryRunPush;

export interface PreparedPush {
  documents: PolicyDocument[];
  packed: PackedArtifact;
  warnings: string[];
}

/** Reads, validates and packs: one error lists every problem, and nothing is packed while any input is bad. */
export async function preparePush(input: PushInput): Promise<PreparedPush> {
  const warnings: string[] = [];
  const loaded = await loadPolicies(input.paths, {
    validate: !input.skipValidation,
    onWarning: (w) => warnings.push(w),
    ...(input.readStdin ? { stdin: input.readStdin } : {}),
  });
  for (const doc of loaded) warnings.push(...(doc.warnings ?? []));
  if (loaded.length === 0) throw new PolicyOciError('INVALID_INPUT', `no policy found in ${input.paths.join(', ')}`);
  const packed = packPolicies(loaded, loadEngines(), { bundle: input.bundle ?? false, annotations: input.annotations ?? {} });
  return { documents: loaded, packed, warnings };
}

export async function push(options: PushOptions, reporter: Reporter = silentReporter): Promise<PushResult> {
  // The reference is checked (a tag to write, a valid name) before the files are read.
  const opened = await openTarget(options.reference, options.store, { push: true });
  const { warnings, warn } = collectWarnings(reporter);
  reporter.progress('Reading and checking the policies');
  const prepared = await preparePush(options);
  for (const w of prepared.warnings) warn(w);
  const { packed } = prepared;
  const contents = {
    policies: prepared.documents.length,
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
      warnings,
    };
  }
  reporter.progress(`Pushing ${prepared.documents.length} policies to ${opened.display}`);
  const published = await publish(opened.target, packed, opened.tags, {
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    onProgress: (done, total) => reporter.progress(`Pushing blobs to ${opened.display}: ${done}/${total}`),
  });
  return { reference: opened.display, dryRun: 'none', ...published, ...contents, warnings };
}
