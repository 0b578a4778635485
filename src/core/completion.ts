// The values shell completion offers for --context and -n/--namespace: the contexts of the
// kubeconfig (read like kubectl reads it), and the namespaces of the cluster, asked with a short
// timeout (a TAB must not hang on an unreachable cluster: no answer in time is no candidates).
import { kubeconfigFiles, mergeKubeconfigs, readKubeconfigFile } from '../kube/kubeconfig.ts';

export interface CompletionKubeOptions {
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
}

/** Context names of the kubeconfig kubectl would read; none when it cannot be read. */
export function completeContexts(opts: CompletionKubeOptions = {}): string[] {
  try {
    const files = kubeconfigFiles(opts.kubeconfig, opts.env ?? process.env);
    return [...mergeKubeconfigs(files.map(readKubeconfigFile)).contexts.keys()].sort();
  } catch {
    return [];
  }
}

/** Namespaces of the context's cluster; none when it cannot be asked within `timeoutMs`. */
export async function completeNamespaces(opts: CompletionKubeOptions = {}, timeoutMs = 2000): Promise<string[]> {
  try {
    const { KubeClient } = await import('../kube/client.ts');
    const client = KubeClient.fromKubeconfig({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      requestTimeoutMs: timeoutMs,
    });
    const namespaces = await client.list({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }, { limit: 500 });
    return namespaces.map((n) => n.metadata?.name).filter((n): n is string => typeof n === 'string').sort();
  } catch {
    return [];
  }
}
