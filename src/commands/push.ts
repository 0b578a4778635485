import type { Argv } from 'yargs';
import type { KyvernoFormat, PushResult, SplitPushOptions } from '../core/push.ts';
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
  exclude?: string[];
  'split-engines'?: boolean;
  'kyverno-format'?: string;
}

export const command = 'push [ref] [paths..]';
export const describe = 'Validate policy files and push them to an OCI registry or layout';

export function builder(y: Argv): Argv<PushArgs> {
  return withDryRunFlag(withConcurrencyFlag(withRegistryFlags(y)), { server: false, describe: 'Print the manifest that would be pushed; send nothing' })
    .positional('ref', { type: 'string', describe: 'Destination, e.g. ghcr.io/acme/policies:v1,latest' })
    .positional('paths', { type: 'string', array: true, describe: 'Files or directories (recursive); - reads stdin' })
    .option('image', { alias: 'i', type: 'string', describe: 'Destination (the proposals\' -i form)' })
    .option('policy', { alias: 'p', type: 'string', array: true, describe: 'Policy file or directory (repeatable)' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine instead of one layer per policy (the layer Flux extracts: see flux)' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value (repeatable)' })
    .option('skip-validation', { type: 'boolean', describe: 'Do not check policies against their CRD schemas' })
    .option('exclude', { type: 'string', array: true, describe: 'Leave out files matching this .gitignore pattern (repeatable; a .policyociignore in a directory works the same)' })
    .option('split-engines', { type: 'boolean', describe: 'One artifact per engine (REF-kyverno, REF-kubearmor, or {engine} in REF) instead of an index: what kyverno oci pull reads' })
    .option('kyverno-format', {
      type: 'string',
      choices: ['layers', 'bundle-1.0'],
      describe: 'How policies.kyverno.io policies are written: layers (default; what kyverno oci pull up to 1.19 reads) or bundle-1.0 (Kyverno CEL Policy Bundle 1.0: one directory archived byte for byte, index config; SOURCE_DATE_EPOCH sets its creation time)',
    })
    .example('$0 push localhost:5000/policies:v1 ./policies', 'Push a directory of Kyverno/KubeArmor policies')
    .example('$0 push localhost:5000/cel-policies:v1 ./examples/policies/kyverno-cel --kyverno-format bundle-1.0', 'A Kyverno CEL Policy Bundle 1.0 of a directory of policies.kyverno.io policies')
    .example('$0 push -i ghcr.io/acme/policies:v1,latest -p a.yaml -p b.yaml', 'The proposals\' form, with two tags')
    .example('$0 push --oci-layout ./layout:v1 ./policies', 'Push into an OCI image layout directory')
    .example('cat p.yaml | $0 push localhost:5000/p:v1 -', 'Read policies from stdin')
    .example('$0 push localhost:5000/policies:v1 ./policies --dry-run', 'Print the manifest; send nothing')
    .example('$0 push localhost:5000/policies:v1 ./policies --split-engines', 'Tags v1-kyverno and v1-kubearmor, one artifact per engine')
    .example("$0 push 'localhost:5000/{engine}-policies:v1' ./policies", 'One repository per engine')
    .example("$0 push localhost:5000/policies:v1 ./policies --exclude 'tests/' --exclude '*-draft.yaml'", 'Leave files out (.gitignore syntax)') as unknown as Argv<PushArgs>;
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

/** --kyverno-format, and for bundle-1.0 SOURCE_DATE_EPOCH (the only environment value the format may use). */
export function kyvernoFormatOptions(format: string | undefined): { kyvernoFormat?: KyvernoFormat; sourceDateEpoch?: string } {
  if (format === undefined || format === 'layers') return format ? { kyvernoFormat: 'layers' } : {};
  if (format !== 'bundle-1.0') throw new PolicyOciError('USAGE', `--kyverno-format ${format}: layers or bundle-1.0`);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return { kyvernoFormat: 'bundle-1.0', ...(epoch !== undefined && epoch !== '' ? { sourceDateEpoch: epoch } : {}) };
}

export async function handler(args: PushArgs): Promise<void> {
  // First: `push --dry-run REF PATH` gives REF to --dry-run, and this error says so.
  const dryRun = dryRunFrom(args, { server: false });
  const { reference, paths } = destinationAndPaths(args);
  if (dryRun === 'server') throw new PolicyOciError('USAGE', 'push has no server-side dry run'); // dryRunFrom refuses it already; narrows the type
  const [{ push, ENGINE_PLACEHOLDER }, { render }, { pushText }, { startReporter }] = await Promise.all([
    import('../core/push.ts'),
    import('../output/render.ts'),
    import('../output/push.ts'),
    import('../output/reporter.ts'),
  ]);
  const options: SplitPushOptions = {
    reference,
    store: await storeOptionsFrom(args),
    paths,
    skipValidation: args['skip-validation'] ?? false,
    bundle: args.bundle ?? false,
    annotations: parseAnnotations(args.annotation),
    readStdin,
    dryRun,
    concurrency: args.concurrency,
    exclude: args.exclude ?? [],
    ...kyvernoFormatOptions(args['kyverno-format']),
    // `{engine}` in REF asks for one artifact per engine as plainly as the flag does.
    splitEngines: args['split-engines'] === true || reference.includes(ENGINE_PLACEHOLDER),
  };
  const reporter = await startReporter();
  let result: PushResult;
  try {
    result = await push(options, reporter);
  } finally {
    reporter.stop();
  }
  // Under --quiet the warnings were only counted: the last line says so.
  render(args.format, result, (r) => pushText(r, { warningsShown: reporter.warningsShown }));
}
