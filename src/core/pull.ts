// pull: read and check the whole artifact in memory first, then write all files at once.
import type { ReadLimits } from '../artifact/limits.ts';
import { compareIdentity } from '../artifact/pack.ts';
import { readArtifact, type FoundPolicy } from '../artifact/unpack.ts';
import type { Target } from '../content/types.ts';
import { assignFileNames } from '../policy/naming.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { writeFilesAtomically } from '../util/files.ts';
import { compareCodeUnits } from '../util/compare.ts';

export interface PullOptions {
  dir: string;
  force?: boolean;
  limits?: ReadLimits;
  concurrency?: number;
  engines?: string[];
}

export interface PulledFile {
  file: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  engine: string;
}

export interface PullSummary {
  reference: string;
  digest: string;
  directory: string;
  files: PulledFile[];
  warnings: string[];
}

/** Sorts like the packer does, so file names come out the same as the layer titles we push. */
export function sortPolicies(policies: FoundPolicy[]): Array<FoundPolicy & { yaml: string }> {
  const withYaml = policies.map((p) => ({ ...p, yaml: p.canonical ?? stringifyCanonical(p.object) }));
  return withYaml.sort((a, b) => compareIdentity(a.object, b.object) || compareCodeUnits(a.yaml, b.yaml));
}

export async function pullToDirectory(target: Target, display: string, reference: string, options: PullOptions): Promise<PullSummary> {
  const read = await readArtifact(target, reference, {
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  const selected = read.policies.filter((p) => !options.engines?.length || options.engines.includes(p.engine));
  return {
    reference: display,
    digest: read.root.digest,
    directory: options.dir,
    files: await writePolicies(options.dir, selected, options.force ?? false),
    warnings: read.warnings,
  };
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
