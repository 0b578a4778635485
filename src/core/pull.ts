// pull: read and check the whole source in memory first (signatures too, with a key), then write
// all files at once.
import { compareIdentity } from '../artifact/pack.ts';
import type { FoundPolicy } from '../artifact/unpack.ts';
import { assignFileNames } from '../policy/naming.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { writeFilesAtomically } from '../util/files.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, sourceFields, type SourceOptions } from './source.ts';

export interface PullOptions extends SourceOptions {
  /** Where the files go (created when missing). */
  directory: string;
  /** Overwrite files that already exist. */
  force?: boolean;
}

export interface PulledFile {
  file: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  engine: string;
}

export interface PullResult {
  reference: string;
  /** What the reference resolved to (the image, with fromReferrers). */
  digest: string;
  /** The artifacts read, oldest first: [digest] for a plain pull. */
  artifacts: string[];
  /** True when every artifact read had a signature that verified with the key. */
  verified: boolean;
  directory: string;
  files: PulledFile[];
  warnings: string[];
}

export async function pull(options: PullOptions, reporter: Reporter = silentReporter): Promise<PullResult> {
  const source = await readPolicySource(options, reporter);
  reporter.progress(`Writing ${source.policies.length} policies to ${options.directory}`);
  return {
    ...sourceFields(source),
    directory: options.directory,
    files: await writePolicies(options.directory, source.policies, options.force ?? false),
    warnings: source.warnings,
  };
}

/** Sorts like the packer does, so file names come out the same as the layer titles we push. */
export function sortPolicies(policies: FoundPolicy[]): Array<FoundPolicy & { yaml: string }> {
  const withYaml = policies.map((p) => ({ ...p, yaml: p.canonical ?? stringifyCanonical(p.object) }));
  return withYaml.sort((a, b) => compareIdentity(a.object, b.object) || compareCodeUnits(a.yaml, b.yaml));
}

/**
 * Writes each policy to its own canonical YAML file in `dir`, all at once (write-aside, then
 * rename); the same object listed twice (identical bytes) is written once.
 */
export async function writePolicies(dir: string, policies: FoundPolicy[], force: boolean): Promise<PulledFile[]> {
  const unique = [...new Map(sortPolicies(policies).map((p) => [p.yaml, p])).values()];
  const names = assignFileNames(unique.map((p) => p.object));
  await writeFilesAtomically(dir, unique.map((p, i) => ({ name: names[i]!, content: p.yaml })), { force });
  return unique.map((p, i) => {
    const f: PulledFile = { file: names[i]!, apiVersion: p.object.apiVersion, kind: p.object.kind, name: p.object.metadata.name, engine: p.engine };
    if (p.object.metadata.namespace) f.namespace = p.object.metadata.namespace;
    return f;
  });
}
