import type { Argv } from 'yargs';
import type { ExportForm, ExportOutput } from '../core/export.ts';
import { PolicyOciError } from '../errors.ts';
import { dryRunFrom, withDryRunFlag, type DryRunFlag } from './dryrun.ts';
import { kyvernoFormatOptions } from './push.ts';
import { kubeOptionsFrom, withKubeFlags, type KubeFlags } from './kubeflags.ts';
import { parseAnnotations, storeOptionsFrom, withConcurrencyFlag, withRegistryFlags, type ConcurrencyFlag, type RegistryFlags } from './options.ts';

/** How exported policies are written: export's and migrate's. */
export interface FormFlags {
  'api-version'?: string[];
  'strip-defaults'?: boolean;
}

export function withFormFlags<T>(y: Argv<T>): Argv<T & FormFlags> {
  return y
    .option('api-version', {
      type: 'string',
      array: true,
      describe:
        'Write the kinds of a group at this version, GROUP/VERSION (repeat for several groups), e.g. policies.kyverno.io/v1; the cluster must serve it. Default: the version kubectl get shows (the group\'s preferred version that serves the kind)',
    })
    .option('strip-defaults', {
      type: 'boolean',
      describe: 'Leave out the fields whose value is their schema default (what the API server would fill in again), e.g. spec.background: true',
    }) as unknown as Argv<T & FormFlags>;
}

export function formFrom(args: FormFlags): ExportForm {
  return { ...(args['api-version']?.length ? { apiVersions: args['api-version'] } : {}), ...(args['strip-defaults'] ? { stripDefaults: true } : {}) };
}

/** The registry flags of a command that pushes. */
export type PushFlags = RegistryFlags & ConcurrencyFlag;

interface ExportArgs extends PushFlags, KubeFlags, DryRunFlag, FormFlags {
  ref?: string;
  engine?: string[];
  kind?: string[];
  'output-dir'?: string;
  force?: boolean;
  bundle?: boolean;
  annotation?: string[];
  strict?: boolean;
  'kyverno-format'?: string;
}

export const command = 'export [ref]';
export const describe = 'Read the live policies of a cluster and push them to REF (or write them as files with --output-dir)';

export function withPushFlags<T>(y: Argv<T>, concurrency: string): Argv<T & PushFlags> {
  return withConcurrencyFlag(withRegistryFlags(y), `${concurrency} (default 8)`);
}

/** Flags that only matter when something is pushed to a registry or layout. */
const PUSH_ONLY = ['oci-layout', 'plain-http', 'insecure', 'ca-file', 'cert-file', 'key-file', 'username', 'password-stdin', 'concurrency'] as const;

/** Refuses push-only flags where nothing is pushed: `why` says why they mean nothing there. */
export function refusePushFlags(args: object, why: string, extra: readonly string[] = []): void {
  const given = [...PUSH_ONLY, ...extra].filter((name) => (args as Record<string, unknown>)[name] !== undefined);
  if (given.length > 0) throw new PolicyOciError('USAGE', `${given.map((n) => `--${n}`).join(', ')} ${given.length === 1 ? 'means' : 'mean'} nothing ${why}`);
}

export function builder(y: Argv): Argv<ExportArgs> {
  const withKube = withKubeFlags(withPushFlags(y, 'Parallel uploads'), {
    namespace: 'Export only this namespace (default: every namespace)',
    allNamespaces: 'Every namespace (the default; overrides -n)',
    selector: 'Only policies with these labels, e.g. team=platform',
  });
  return withFormFlags(withDryRunFlag(withKube, { server: false, describe: 'client: read the cluster and show what would be pushed; send nothing' }))
    .positional('ref', { type: 'string', describe: 'Destination, e.g. ghcr.io/acme/policies:prod' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines (kyverno, kubearmor, kubernetes, gatekeeper)' })
    .option('kind', { type: 'string', array: true, describe: 'Only these kinds (ClusterPolicy, kubearmorpolicies, …)' })
    .option('output-dir', { type: 'string', describe: 'Write one YAML file per policy here instead of pushing (no REF)' })
    .option('force', { type: 'boolean', describe: 'With --output-dir: overwrite existing files' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine (the layer Flux extracts: see flux)' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value' })
    .option('strict', {
      type: 'boolean',
      describe: 'Fail (write and push nothing) when a kind the cluster serves cannot be read, e.g. forbidden by RBAC; without it such kinds are warnings and listed under "skipped"',
    })
    .example('$0 export ghcr.io/acme/policies:prod', 'Every policy of the current context, all namespaces')
    .example('$0 export localhost:5000/p:v1 --context staging --engine kyverno -l team=platform', 'A selection')
    .example('$0 export ghcr.io/acme/policies:prod --dry-run', 'What would be pushed; nothing is sent')
    .example('$0 export --output-dir ./live -n team-a', 'Files instead of a push')
    .example('$0 export --output-dir ./live --strip-defaults', 'Files as their authors would have written them: no defaults the server filled in')
    .example('$0 export --output-dir ./live --api-version=policies.kyverno.io/v1beta1', 'The policies.kyverno.io kinds at v1beta1, the others at kubectl\'s version')
    .option('kyverno-format', {
      type: 'string',
      choices: ['layers', 'bundle-1.0'],
      describe: 'How policies.kyverno.io policies are pushed: layers (default; what kyverno oci pull up to 1.19 reads) or bundle-1.0 (Kyverno CEL Policy Bundle 1.0; only those kinds may be selected)',
    })
    .example('$0 export ghcr.io/acme/policies:backup --strict', 'A backup: fails when any policy kind cannot be read')
    .example('$0 export ghcr.io/acme/cel-policies:v1 --kind validatingpolicies.policies.kyverno.io --kyverno-format bundle-1.0', 'The ValidatingPolicies as a Kyverno CEL Policy Bundle 1.0') as unknown as Argv<ExportArgs>;
}

export async function handler(args: ExportArgs): Promise<void> {
  const output = await outputFrom(args);
  const [{ exportPolicies }, { exportText }, { render }, { reporting }] = await Promise.all([
    import('../core/export.ts'),
    import('../output/export.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = {
    kube: kubeOptionsFrom(args),
    selection: {
      ...(args.engine ? { engines: args.engine } : {}),
      ...(args.kind ? { kinds: args.kind } : {}),
      ...(args.namespace && !args['all-namespaces'] ? { namespace: args.namespace } : {}),
      ...(args.selector ? { labelSelector: args.selector } : {}),
    },
    output,
    form: formFrom(args),
    strict: args.strict ?? false,
  };
  const result = await reporting((reporter) => exportPolicies(options, reporter));
  render(args.format, result, exportText);
}

/** Files or a push, each refusing the flags that mean nothing for it. */
async function outputFrom(args: ExportArgs): Promise<ExportOutput> {
  const directory = args['output-dir'];
  const dryRun = dryRunFrom(args, { server: false });
  if (directory) {
    if (args.ref) throw new PolicyOciError('USAGE', 'export takes a destination REF or --output-dir, not both');
    refusePushFlags(args, 'with --output-dir: nothing is pushed', ['bundle', 'annotation', 'kyverno-format']);
    if (dryRun !== 'none') throw new PolicyOciError('USAGE', '--dry-run shows what would be pushed; with --output-dir nothing is pushed');
    return { directory, force: args.force ?? false };
  }
  if (!args.ref) throw new PolicyOciError('USAGE', 'export needs a destination REF or --output-dir');
  if (args.force !== undefined) throw new PolicyOciError('USAGE', '--force overwrites files of --output-dir; a push overwrites no file');
  return {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    bundle: args.bundle ?? false,
    annotations: parseAnnotations(args.annotation),
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    dryRun: dryRun === 'client' ? 'client' : 'none',
    ...kyvernoFormatOptions(args['kyverno-format']),
  };
}
