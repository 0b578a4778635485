// The standard kubectl plugin flags, declared once; each command says which it takes and what
// -n means for it (export reads one namespace, apply and diff retarget policies into one…).
import type { Argv } from 'yargs';
import type { KubeOptions } from '../core/apply.ts';
import { parseDuration, traceOption } from './options.ts';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'all-namespaces'?: boolean;
  selector?: string;
  'request-timeout'?: string;
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
}

export function withKubeFlags<T>(y: Argv<T>, spec: KubeFlagSpec): Argv<T & KubeFlags> {
  let out = y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)' })
    .option('namespace', { alias: 'n', type: 'string', describe: spec.namespace });
  if (spec.context ?? true) out = out.option('context', { type: 'string', describe: 'The kubeconfig context to use' });
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
