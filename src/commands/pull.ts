import type { Argv } from 'yargs';
import type { PullOptions } from '../core/pull.ts';
import { PolicyOciError } from '../errors.ts';
import { applyBuilder, applyFromArgs, sourceOptionsFrom, type ApplyArgs } from './apply.ts';

interface PullArgs extends ApplyArgs {
  output?: string;
  force?: boolean;
  'preserve-paths'?: boolean;
  apply?: boolean;
}

/** A flag as parsed (its yargs key) and as the user knows it (for messages). */
interface NamedFlag {
  key: string;
  name: string;
}

/**
 * Flags pull offers only because `pull --apply` is `apply` (apply's flags from kubeflags.ts and
 * applyflags.ts): when pull writes files they would change nothing, silently. `--request-timeout` is not
 * here: it bounds registry requests too.
 */
export const APPLY_ONLY_FLAGS: readonly NamedFlag[] = [
  { key: 'dry-run', name: '--dry-run' },
  { key: 'force-conflicts', name: '--force-conflicts' },
  { key: 'create-namespace', name: '--create-namespace' },
  { key: 'prune', name: '--prune' },
  { key: 'atomic', name: '--atomic' },
  { key: 'wait', name: '--wait' },
  { key: 'kubeconfig', name: '--kubeconfig' },
  { key: 'context', name: '--context' },
  { key: 'all-contexts', name: '--all-contexts' },
  { key: 'parallel', name: '--parallel' },
  { key: 'fail-fast', name: '--fail-fast' },
  { key: 'namespace', name: '-n/--namespace' },
];

/** Flags for writing files, which `pull --apply` does not do. */
export const FILES_ONLY_FLAGS: readonly NamedFlag[] = [
  { key: 'output', name: '-o/--output' },
  { key: 'force', name: '--force' },
  { key: 'preserve-paths', name: '--preserve-paths' },
];

/** The flags of `flags` the user gave (yargs leaves a flag without a default undefined when not given). */
export function givenFlags(args: object, flags: readonly NamedFlag[]): string[] {
  return flags.filter((f) => (args as Record<string, unknown>)[f.key] !== undefined).map((f) => f.name);
}

function listOf(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

export const command = 'pull [ref]';
export const describe = 'Pull a policy artifact and write one YAML file per policy';

export function builder(y: Argv): Argv<PullArgs> {
  return applyBuilder(y)
    .option('output', { alias: ['o', 'd', 'dir'], type: 'string', describe: 'Output directory (default: the current directory)' })
    .option('force', { type: 'boolean', describe: 'Overwrite files that already exist' })
    .option('preserve-paths', {
      type: 'boolean',
      describe:
        "Keep the artifact's own layout: each file at the path it has in the artifact (a layer's title, an archive's entry: " +
        'oras directories, Flux, bundles), as it was there, several policies in one file staying one file (only the wanted ones ' +
        'with --engine). A path that would leave the output directory (.., absolute) or lead through a symbolic link refuses the ' +
        'pull. Default: one <name>.yaml per policy',
    })
    .option('apply', { type: 'boolean', describe: 'Apply to the cluster instead of writing files (see `apply`)' })
    .group(FILES_ONLY_FLAGS.map((f) => f.key), 'Writing files (without --apply):')
    .group(['apply', ...APPLY_ONLY_FLAGS.map((f) => f.key)], 'Applying to a cluster (with --apply):')
    .example('$0 pull localhost:5000/policies:v1 -o ./policies', 'Write each policy to ./policies')
    .example('$0 pull -i ghcr.io/acme/policies@sha256:… -d out', 'Pull by digest, the proposals\' form')
    .example('$0 pull --oci-layout ./layout:v1 -o out', 'Pull from an OCI image layout directory')
    .example('$0 pull localhost:5000/policies:v1 --preserve-paths -o out', 'Keep the files and directories the artifact holds (e.g. pushed by oras or flux)')
    .example('$0 pull localhost:5000/policies:v1 --verify-key cosign.pub -o out', 'Only if signed with the key')
    .example('$0 pull localhost:5000/policies:v1 --apply --context staging', 'Apply straight into a cluster')
    .example('$0 pull localhost:5000/policies:v1 --apply --all-contexts', 'Into every context of the kubeconfig, as apply does (exit 9 when one failed)') as unknown as Argv<PullArgs>;
}

export async function handler(args: PullArgs): Promise<void> {
  if (args.apply) {
    const fileFlags = givenFlags(args, FILES_ONLY_FLAGS);
    if (fileFlags.length) throw new PolicyOciError('USAGE', `pull --apply writes no files: ${listOf(fileFlags)} ${fileFlags.length === 1 ? 'has' : 'have'} no meaning with it`);
    return applyFromArgs(args);
  }
  const clusterFlags = givenFlags(args, APPLY_ONLY_FLAGS);
  if (clusterFlags.length) {
    throw new PolicyOciError('USAGE', `${listOf(clusterFlags)} only ${clusterFlags.length === 1 ? 'means' : 'mean'} something with --apply: without it pull writes files and talks to no cluster`);
  }
  const source = await sourceOptionsFrom(args, 'pull');
  const [{ pull }, { render }, { pullText }, { reporting }] = await Promise.all([
    import('../core/pull.ts'),
    import('../output/render.ts'),
    import('../output/pull.ts'),
    import('../output/reporter.ts'),
  ]);
  const options: PullOptions = { ...source, directory: args.output ?? '.', force: args.force ?? false, preservePaths: args['preserve-paths'] ?? false };
  const result = await reporting((reporter) => pull(options, reporter));
  render(args.format, result, pullText);
}
