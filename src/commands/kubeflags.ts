// The standard kubectl plugin flags, declared once; each command says which it takes and what
// -n means for it (export reads one namespace, apply and diff retarget policies into one…).
import type { Argv } from 'yargs';
import type { KubeOptions } from '../core/apply.ts';
import { isFleetSelection, selectionOf, type FleetOptions } from '../core/fleet.ts';
import { PolicyOciError } from '../errors.ts';
import { parseDuration, traceOption } from './options.ts';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'all-namespaces'?: boolean;
  selector?: string;
  'request-timeout'?: string;
}

/** Several contexts at once (apply, pull --apply, diff, status). */
export interface FleetFlags {
  'all-contexts'?: boolean;
  parallel?: number;
  'fail-fast'?: boolean;
}

export interface KubeFlagSpec {
  /** What -n/--namespace does for this command. */
  namespace: string;
  /** --context (migrate names its two contexts with flags of its own). Default true. */
  context?: boolean;
  /** What -l/--selector selects; not offered when absent. */
  selector?: string;
  /** What -A/--all-namespaces does; not offered when absent. */
  allNamespaces?: string;
  /** --context takes lists and patterns, with --all-contexts, --parallel and --fail-fast (withFleetFlags). */
  fleet?: boolean;
}

// The pattern syntax is the shell's glob (`prod-*`, `eu-?`, `[ab]-prod`), what kubectl users type
// for names everywhere else; a regular expression would need quoting for every dot of an EKS ARN.
const FLEET_CONTEXT =
  'The kubeconfig context to use; several: a comma-separated list (a,b,c; or --context repeated) and/or glob patterns (\'prod-*\', \'eu-?\', ' +
  '\'[ab]-prod\'; * also matches / in EKS names), each done as one --context would be, with a summary table';
export const DEFAULT_PARALLEL = 4;

/** --all-contexts, --parallel, --fail-fast: what a command over several contexts takes. */
export function withFleetFlags<T>(y: Argv<T>): Argv<T & FleetFlags> {
  return y
    .option('all-contexts', { type: 'boolean', describe: 'Every context of the kubeconfig (as kubectl config get-contexts lists them)' })
    .option('parallel', {
      type: 'number',
      describe: `With several contexts: how many are worked on at once (default ${DEFAULT_PARALLEL}); one failing never stops the others`,
    })
    .option('fail-fast', {
      type: 'boolean',
      describe: 'With several contexts: after the first one fails, start no other (those running finish; the rest are reported skipped)',
    }) as unknown as Argv<T & FleetFlags>;
}

export function withKubeFlags<T>(y: Argv<T>, spec: KubeFlagSpec): Argv<T & KubeFlags> {
  let out = y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)' })
    .option('namespace', { alias: 'n', type: 'string', describe: spec.namespace });
  if (spec.context ?? true) out = out.option('context', { type: 'string', describe: spec.fleet ? FLEET_CONTEXT : 'The kubeconfig context to use' });
  if (spec.fleet) out = withFleetFlags(out);
  if (spec.allNamespaces) out = out.option('all-namespaces', { alias: 'A', type: 'boolean', describe: spec.allNamespaces });
  if (spec.selector) out = out.option('selector', { alias: 'l', type: 'string', describe: spec.selector });
  return out as unknown as Argv<T & KubeFlags>;
}

/** The cluster options of the flags, for the context given (default --context). */
export function kubeOptionsFrom(flags: KubeFlags, context = flags.context): KubeOptions {
  const timeout = parseDuration(flags['request-timeout']);
  return {
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(context ? { context } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(timeout ? { requestTimeoutMs: timeout } : {}),
    ...traceOption(),
  };
}

/**
 * The fleet the flags ask for, or undefined for one context (today's behaviour, output and exit
 * codes unchanged): --all-contexts, or a --context holding a comma or a pattern. --parallel and
 * --fail-fast mean nothing for one context: refused (exit 2) without a fleet.
 */
export function fleetFrom(flags: KubeFlags & FleetFlags): FleetOptions | undefined {
  const context = contextFlag(flags.context);
  const all = flags['all-contexts'] ?? false;
  if (all && context !== undefined) throw new PolicyOciError('USAGE', '--all-contexts and --context name the contexts twice: give one of them');
  if (!isFleetSelection(context, all)) {
    const given = [flags.parallel !== undefined ? '--parallel' : '', flags['fail-fast'] !== undefined ? '--fail-fast' : ''].filter(Boolean);
    if (given.length) throw new PolicyOciError('USAGE', `${given.join(' and ')} only ${given.length === 1 ? 'means' : 'mean'} something with several contexts (--context a,b, a pattern, or --all-contexts)`);
    return undefined;
  }
  const parallel = flags.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new PolicyOciError('USAGE', `--parallel must be a whole number from 1 to 64, not ${flags.parallel}`);
  return { selection: selectionOf(context, all), parallel, failFast: flags['fail-fast'] ?? false };
}

/** --context given twice (yargs makes it an array) is read as a list. */
function contextFlag(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
