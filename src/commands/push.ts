import type { Argv } from 'yargs';
import type { PushOptions, PushResult } from '../core/push.ts';
import { PolicyOciError } from '../errors.ts';
import { dryRunFrom, withDryRunFlag, type DryRunFlag } from './dryrun.ts';
import { parseAnnotations, readStdin, STDIN_MARKER, storeOptionsFrom, withConcurrencyFlag, withRegistryFlags, type ConcurrencyFlag, type RegistryFlags } from './options.ts';

interface PushArgs extends RegistryFlags, ConcurrencyFlag, DryRunFlag {
  ref?: string;
  paths?: string[];
  image?: string;
  policy?: string[];
  bundle?: boolean;
  annotation?: string[];
  'skip-validation'?: boolean;
}

export const command = 'push [ref] [paths..]';
export const describe = 'Validate policy files and push them to an OCI registry or layout';

export function builder(y: Argv): Argv<PushArgs> {
  return withDryRunFlag(withConcurrencyFlag(withRegistryFlags(y)), { server: false, describe: 'Print the manifest that would be pushed; send nothing' })
    .positional('ref', { type: 'string', describe: 'Destination, e.g. ghcr.io/acme/policies:v1,latest' })
    .positional('paths', { type: 'string', array: true, describe: 'Files or directories (recursive); - reads stdin' })
    .option('image', { alias: 'i', type: 'string', describe: 'Destination (the proposals\' -i form)' })
    .option('policy', { alias: 'p', type: 'string', array: true, describe: 'Policy file or directory (repeatable)' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine instead of one layer per policy' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value (repeatable)' })
    .option('skip-validation', { type: 'boolean', describe: 'Do not check policies against their CRD schemas' })
    .example('$0 push localhost:5000/policies:v1 ./policies', 'Push a directory of Kyverno/KubeArmor policies')
    .example('$0 push -i ghcr.io/acme/policies:v1,latest -p a.yaml -p b.yaml', 'The proposals\' form, with two tags')
    .example('$0 push --oci-layout ./layout:v1 ./policies', 'Push into an OCI image layout directory')
    .example('cat p.yaml | $0 push localhost:5000/p:v1 -', 'Read policies from stdin')
    .example('$0 push localhost:5000/policies:v1 ./policies --dry-run', 'Print the manifest; send nothing') as unknown as Argv<PushArgs>;
}

/** The destination and the files, from either form: `push REF PATHS…` or `push -i REF -p PATH…`. */
function destinationAndPaths(args: PushArgs): { reference: string; paths: string[] } {
  let reference = args.image;
  let paths = [...(args.policy ?? [])];
  if (reference === undefined) {
    reference = args.ref;
    paths.push(...(args.paths ?? []));
  } else if (args.ref !== undefined) {
    paths = [args.ref, ...(args.paths ?? []), ...paths];
  }
  paths = paths.map((p) => (p === STDIN_MARKER ? '-' : p));
  if (!reference) throw new PolicyOciError('USAGE', 'push needs a destination reference (REF or -i REF)');
  if (paths.length === 0) throw new PolicyOciError('USAGE', 'push needs at least one file or directory (or - for stdin)');
  return { reference, paths };
}

export async function handler(args: PushArgs): Promise<void> {
  // First: `push --dry-run REF PATH` gives REF to --dry-run, and this error says so.
  const dryRun = dryRunFrom(args, { server: false });
  const { reference, paths } = destinationAndPaths(args);
  if (dryRun === 'server') throw new PolicyOciError('USAGE', 'push has no server-side dry run'); // dryRunFrom refuses it already; narrows the type
  const [{ push }, { render }, { pushText }, { startReporter }] = await Promise.all([
    import('../core/push.ts'),
    import('../output/render.ts'),
    import('../output/push.ts'),
    import('../output/reporter.ts'),
  ]);
  const options: PushOptions = {
    reference,
    store: await storeOptionsFrom(args),
    paths,
    skipValidation: args['skip-validation'] ?? false,
    bundle: args.bundle ?? false,
    annotations: parseAnnotations(args.annotation),
    readStdin,
    dryRun,
    concurrency: args.concurrency,
  };
  const reporter = await startReporter();
  let result: PushResult;
  try {
    result = await push(options, reporter);
  } finally {
    reporter.stop();
  }
  render(args.format, result, pushText);
}
