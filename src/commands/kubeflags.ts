// The standard kubectl plugin flags, declared once for every command that talks to a cluster.
import type { Argv } from 'yargs';
import { parseDuration } from './options.ts';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'all-namespaces'?: boolean;
  selector?: string;
  'request-timeout'?: string;
}

export function withKubeFlags<T>(y: Argv<T>): Argv<T & KubeFlags> {
  return y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)' })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use' })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace (export: only this one; apply: retarget namespaced policies)' })
    .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'All namespaces (the default for export)' })
    .option('selector', { alias: 'l', type: 'string', describe: 'Label selector, e.g. team=platform' }) as unknown as Argv<T & KubeFlags>;
}

/** Options for KubeClient.fromKubeconfig from the flags. */
export function kubeOptionsFrom(flags: KubeFlags, context = flags.context): { kubeconfig?: string; context?: string; namespace?: string; requestTimeoutMs?: number } {
  const timeout = parseDuration(flags['request-timeout']);
  return {
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(context ? { context } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(timeout ? { requestTimeoutMs: timeout } : {}),
  };
}
