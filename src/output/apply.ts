// apply / pull --apply (and the apply part of migrate): one line per object, then a summary.
import type { ApplySummary } from '../core/apply.ts';
import type { ApplyResult } from '../kube/result.ts';

const DRY_RUN_NOTE = { none: '', server: ' (server dry run)', client: ' (client dry run)' } as const;

export function applyText(s: Pick<ApplySummary, 'results' | 'counts' | 'context' | 'dryRunStrategy'>): string {
  const lines = s.results.map((r) => [resultLine(r, s.dryRunStrategy), ...(r.details ?? []).map((d) => `    ${d}`)].join('\n'));
  lines.push(summaryLine(s));
  return lines.join('\n');
}

function resultLine(r: ApplyResult, dryRun: ApplySummary['dryRunStrategy']): string {
  const id = `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
  if (r.action === 'failed') return `${id} failed: ${r.error ?? 'unknown error'}`;
  if (r.action === 'would-apply') return `${id} would be applied${DRY_RUN_NOTE[dryRun]}`;
  return `${id} ${r.action}${DRY_RUN_NOTE[dryRun]}`;
}

function summaryLine(s: Pick<ApplySummary, 'counts' | 'context' | 'dryRunStrategy'>): string {
  const c = s.counts;
  if (s.dryRunStrategy === 'client') {
    return `${c['would-apply']} would be applied, ${c.failed} failed (context ${s.context}, client dry run: no cluster was contacted)`;
  }
  return `${c.created} created, ${c.configured} configured, ${c.unchanged} unchanged, ${c.pruned} pruned, ${c.failed} failed (context ${s.context}${s.dryRunStrategy === 'server' ? ', dry run' : ''})`;
}
