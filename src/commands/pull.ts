import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { applyBuilder, applyFromArgs, type ApplyArgs } from './apply.ts';
import { limitsFrom } from './limits.ts';

interface PullArgs extends ApplyArgs {
  output?: string;
  force?: boolean;
  apply?: boolean;
}

export const command = 'pull [ref]';
export const describe = 'Pull a policy artifact and write one YAML file per policy';

export function builder(y: Argv): Argv<PullArgs> {
  return applyBuilder(y)
    .option('output', { alias: ['o', 'd', 'dir'], type: 'string', describe: 'Output directory', default: '.' })
    .option('force', { type: 'boolean', describe: 'Overwrite files that already exist' })
    .option('apply', { type: 'boolean', describe: 'Apply to the cluster instead of writing files (see `apply`)' })
    .example('$0 pull localhost:5000/policies:v1 --apply --context staging', 'Apply straight into a cluster')
    .example('$0 pull localhost:5000/policies:v1 -o ./policies', 'Write each policy to ./policies')
    .example('$0 pull -i ghcr.io/acme/policies@sha256:… -d out', 'Pull by digest, the proposals\' form')
    .example('$0 pull --oci-layout ./layout:v1 -o out', 'Pull from an OCI image layout directory') as unknown as Argv<PullArgs>;
}

export async function handler(args: PullArgs): Promise<void> {
  if (args.apply) return applyFromArgs(args);
  const ref = args.image ?? args.ref;
  if (!ref) throw new PolicyOciError('USAGE', 'pull needs a reference (REF or -i REF)');
  const [{ pullToDirectory }, { openTarget }, { render }, { startProgress }] = await Promise.all([
    import('../core/pull.ts'),
    import('../content/open.ts'),
    import('../output/render.ts'),
    import('../output/progress.ts'),
  ]);
  const opened = await openTarget(ref, args, { push: false });
  if (args['verify-key'] || args['from-referrers']) return pullTrusted(opened, args);
  const progress = await startProgress(`Pulling ${opened.display}`);
  try {
    const summary = await pullToDirectory(opened.target, opened.display, opened.reference, {
      dir: args.output ?? '.',
      force: args.force ?? false,
      limits: limitsFrom(args),
      concurrency: args.concurrency,
      engines: args.engine ?? [],
    });
    progress.stop();
    for (const w of summary.warnings) process.stderr.write(`Warning: ${w}\n`);
    render(args.format, summary, (s) =>
      [`Pulled ${s.files.length} policies from ${s.reference} (${s.digest}) into ${s.directory}`, ...s.files.map((f) => `  ${f.file}\t${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`)].join('\n'),
    );
  } finally {
    progress.stop();
  }
}

/** --verify-key / --from-referrers: what may be read, decided (signatures checked) before reading. */
export async function selectFromArgs(opened: import('../content/open.ts').OpenedTarget, args: PullArgs) {
  const { selectArtifacts } = await import('../core/verify.ts');
  return selectArtifacts(opened.target, opened.display, opened.reference, {
    ...(args['verify-key'] ? { verifyKeyPath: args['verify-key'] } : {}),
    fromReferrers: args['from-referrers'] ?? false,
    ...(args['referrers-mode'] ? { mode: args['referrers-mode'] } : {}),
    onWarning: (w) => process.stderr.write(`Warning: ${w}\n`),
  });
}

async function pullTrusted(opened: import('../content/open.ts').OpenedTarget, args: PullArgs): Promise<void> {
  const [{ pullSelected }, { render }] = await Promise.all([import('../core/attach.ts'), import('../output/render.ts')]);
  const selected = await selectFromArgs(opened, args);
  const summary = await pullSelected(opened.target, opened.display, selected, {
    dir: args.output ?? '.',
    force: args.force ?? false,
    limits: limitsFrom(args),
    concurrency: args.concurrency,
    engines: args.engine ?? [],
  });
  for (const w of summary.warnings) process.stderr.write(`Warning: ${w}\n`);
  render(args.format, summary, (s) =>
    [
      `Pulled ${s.files.length} policies from ${s.reference} (${s.artifacts.length === 1 && s.artifacts[0] === s.digest ? s.digest : `${s.artifacts.length} artifact(s) attached to ${s.digest}`})${s.verified ? ', signature verified,' : ''} into ${s.directory}`,
      ...s.files.map((f) => `  ${f.file}\t${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`),
    ].join('\n'),
  );
}
