// pull: read and check the whole source in memory first (signatures too, with a key), then write
// all files at once: one file per policy, named after it, or with preservePaths the artifact's own
// files at the paths it gives them.
import { compareIdentity } from '../artifact/pack.ts';
import { readArtifactFiles, type ArtifactFile } from '../artifact/paths.ts';
import type { FoundPolicy } from '../artifact/unpack.ts';
import { PolicyOciError } from '../errors.ts';
import { assignFileNames } from '../policy/naming.ts';
import { parseDocuments, stringifyCanonical } from '../policy/yaml.ts';
import { writeFilesAtomically } from '../util/files.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { safeRelativePath, writeTreeAtomically, type TreeFile } from '../util/tree.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, sourceFields, type PolicySource, type SourceFields, type SourceOptions } from './source.ts';

export interface PullOptions extends SourceOptions {
  /** Where the files go (created when missing). */
  directory: string;
  /** Overwrite files that already exist. */
  force?: boolean;
  /** Write the artifact's files at the paths it gives them (see writePreservingPaths). */
  preservePaths?: boolean;
}

export interface PulledFile {
  file: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  engine: string;
}

export interface PullResult extends SourceFields {
  directory: string;
  files: PulledFile[];
  warnings: string[];
}

export async function pull(options: PullOptions, reporter: Reporter = silentReporter): Promise<PullResult> {
  const source = await readPolicySource(options, reporter);
  reporter.progress(`Writing ${source.policies.length} policies to ${options.directory}`);
  const force = options.force ?? false;
  return {
    ...sourceFields(source),
    directory: options.directory,
    files: options.preservePaths ? await writePreservingPaths(options.directory, source, options, force) : await writePolicies(options.directory, source.policies, force),
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
  return unique.map((p, i) => pulledFile(names[i]!, p));
}

function pulledFile(file: string, p: FoundPolicy): PulledFile {
  const f: PulledFile = { file, apiVersion: p.object.apiVersion, kind: p.object.kind, name: p.object.metadata.name, engine: p.engine };
  if (p.object.metadata.namespace) f.namespace = p.object.metadata.namespace;
  return f;
}

/** A file to write and the policies it holds. */
interface PlacedFile {
  path: string;
  content: Buffer;
  policies: FoundPolicy[];
}

/**
 * Writes the artifact's own files at the paths it gives them (layer titles, archive entries),
 * all at once; paths that would leave the directory refuse the pull. A file is written as it was
 * in the layer, several policies in one file staying one file; when only some of its policies are
 * wanted (--engine, or a newer attached artifact replaces one) it holds just those, canonical. A
 * policy whose layer has no title gets `<name>.yaml` at the top, as without preservePaths.
 */
export async function writePreservingPaths(dir: string, source: PolicySource, options: SourceOptions, force: boolean): Promise<PulledFile[]> {
  const wanted = new Map<string, Map<string, FoundPolicy>>(); // layer → canonical YAML → policy
  for (const p of source.policies) {
    const byYaml = wanted.get(p.layer) ?? new Map<string, FoundPolicy>();
    byYaml.set(p.canonical ?? stringifyCanonical(p.object), p);
    wanted.set(p.layer, byYaml);
  }
  const files = await readArtifactFiles(source.opened.target, source.artifacts, new Set(wanted.keys()), {
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  const placed = new Map<string, PlacedFile>();
  const written = new Set<FoundPolicy>(); // the policies wanted.get(layer) holds, once written
  for (const file of files) {
    const chosen = chosenDocuments(file, wanted.get(file.layer)!);
    if (chosen.length === 0 || file.path === undefined) continue;
    const path = pathInside(file.path, file.label);
    const content = chosen.length === chosen.total ? file.content : Buffer.from(partialContent(path, chosen), 'utf8');
    const before = placed.get(path);
    if (before && !before.content.equals(content)) {
      throw new PolicyOciError('INVALID_INPUT', `two files of the artifact want the path ${path} (${file.label} and another); pull without --preserve-paths to get one file per policy`);
    }
    placed.set(path, { path, content, policies: [...new Set([...(before?.policies ?? []), ...chosen.map((c) => c.policy)])] });
    for (const c of chosen) written.add(c.policy);
  }
  // Policies no file gave a path to (a layer without a title): named after themselves.
  const unwritten = source.policies.filter((p) => !written.has(wanted.get(p.layer)!.get(p.canonical ?? stringifyCanonical(p.object))!));
  const rest = [...new Map(sortPolicies(unwritten).map((p) => [p.yaml, p])).values()];
  const used = new Set([...placed.keys()].map((k) => k.toLowerCase()));
  assignFileNames(rest.map((p) => p.object)).forEach((name, i) => {
    let path = name;
    for (let n = 2; used.has(path.toLowerCase()); n++) path = name.replace(/\.yaml$/, `-${n}.yaml`);
    used.add(path.toLowerCase());
    placed.set(path, { path, content: Buffer.from(rest[i]!.yaml, 'utf8'), policies: [rest[i]!] });
  });
  const out = [...placed.values()].sort((a, b) => compareCodeUnits(a.path, b.path));
  await writeTreeAtomically(dir, out.map((f): TreeFile => ({ path: f.path, content: f.content })), { force });
  return out.flatMap((f) => f.policies.map((p) => pulledFile(f.path, p)));
}

function pathInside(raw: string, label: string): string {
  try {
    return safeRelativePath(raw, label);
  } catch (err) {
    if (!(err instanceof PolicyOciError)) throw err;
    throw new PolicyOciError(err.code, `${err.message}; nothing was written (without --preserve-paths each policy is written as <name>.yaml)`);
  }
}

interface Chosen {
  policy: FoundPolicy;
  yaml: string;
  value: unknown;
}

/** The documents of a file that are wanted policies, in file order, and how many it holds. */
function chosenDocuments(file: ArtifactFile, wanted: ReadonlyMap<string, FoundPolicy>): Chosen[] & { total: number } {
  const docs = parseDocuments(file.content.toString('utf8'), file.label);
  const chosen: Chosen[] = [];
  for (const doc of docs) {
    const yaml = doc.canonical ?? stringifyCanonical(doc.value);
    const policy = wanted.get(yaml);
    if (policy) chosen.push({ policy, yaml, value: doc.value });
  }
  return Object.assign(chosen, { total: docs.length });
}

/** Some of a file's policies: YAML documents, or for a .json file one object (a List for several). */
function partialContent(path: string, chosen: Chosen[]): string {
  if (!/\.json$/i.test(path)) return chosen.map((c) => c.yaml).join('---\n');
  const value = chosen.length === 1 ? chosen[0]!.value : { apiVersion: 'v1', kind: 'List', items: chosen.map((c) => c.value) };
  return `${JSON.stringify(value, null, 2)}\n`;
}
