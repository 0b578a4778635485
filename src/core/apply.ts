// apply / pull --apply: read and check the whole artifact first, then apply its policies with
// server-side apply. Only policy kinds of known engines ever reach the cluster (kube/apply.ts).
import type { ReadLimits } from '../artifact/limits.ts';
import { readArtifact } from '../artifact/unpack.ts';
import type { Target } from '../content/types.ts';
import { applyPolicies, hasFailures, type ApplyResult } from '../kube/apply.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../policy/types.ts';

export interface ApplyArtifactOptions {
  namespace?: string;
  createNamespace: boolean;
  dryRun: boolean;
  forceConflicts: boolean;
  /** The source repository, when --prune is given. */
  pruneRepository?: string;
  limits?: ReadLimits;
  engines?: string[];
}

export interface ApplySummary {
  reference: string;
  digest: string;
  context: string;
  server: string;
  dryRun: boolean;
  results: ApplyResult[];
  counts: Record<ApplyResult['action'], number>;
  failed: boolean;
}

export function summarise(results: ApplyResult[]): Record<ApplyResult['action'], number> {
  const counts = { created: 0, configured: 0, unchanged: 0, failed: 0, pruned: 0 };
  for (const r of results) counts[r.action]++;
  return counts;
}

export async function applyObjects(client: KubeClient, objects: KubeObject[], options: ApplyArtifactOptions): Promise<ApplyResult[]> {
  return applyPolicies(client, objects, {
    ...(options.namespace ? { namespace: options.namespace } : {}),
    createNamespace: options.createNamespace,
    dryRun: options.dryRun,
    forceConflicts: options.forceConflicts,
    ...(options.pruneRepository ? { prune: { repository: options.pruneRepository } } : {}),
  });
}

export async function applyArtifact(target: Target, display: string, reference: string, client: KubeClient, options: ApplyArtifactOptions): Promise<ApplySummary> {
  const read = await readArtifact(target, reference, options.limits ? { limits: options.limits } : {});
  const objects = read.policies.filter((p) => !options.engines?.length || options.engines.includes(p.engine)).map((p) => p.object);
  const results = await applyObjects(client, objects, options);
  return {
    reference: display,
    digest: read.root.digest,
    context: client.contextName,
    server: client.server,
    dryRun: options.dryRun,
    results,
    counts: summarise(results),
    failed: hasFailures(results),
  };
}

export function renderApply(s: ApplySummary): string {
  const lines = s.results.map((r) => {
    const id = `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
    const text = r.action === 'failed' ? `${id} failed: ${r.error ?? 'unknown error'}` : `${id} ${r.action}${s.dryRun ? ' (server dry run)' : ''}`;
    return [text, ...(r.details ?? []).map((d) => `    ${d}`)].join('\n');
  });
  const c = s.counts;
  lines.push(`${c.created} created, ${c.configured} configured, ${c.unchanged} unchanged, ${c.pruned} pruned, ${c.failed} failed (context ${s.context}${s.dryRun ? ', dry run' : ''})`);
  return lines.join('\n');
}
