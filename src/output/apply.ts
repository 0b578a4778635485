// apply / pull --apply (and the apply part of migrate): one line per object, then a summary (and
// the Sigstore trusted root when a signature needed one).
import type { ApplySummary } from '../core/apply.ts';
import type { ApplyResult } from '../kube/result.ts';
import { count } from '../util/plural.ts';
import { readinessLines } from './readiness.ts';
import { trustedRootLines } from './trustroot.ts';

const DRY_RUN_NOTE = { none: '', server: ' (server dry run)', client: ' (client dry run)' } as const;

export function applyText(s: Pick<ApplySummary, 'results' | 'counts' | 'context' | 'dryRunStrategy' | 'atomic' | 'trustedRoot' | 'readiness'>): string {
  const lines = s.atomic ? [atomicLine(s.atomic)] : [];
  lines.push(...s.results.map((r) => [resultLine(r, s.dryRunStrategy), ...(r.details ?? []).map((d) => `    ${d}`)].join('\n')));
  lines.push(summaryLine(s), ...readinessLines(s.readiness), ...trustedRootLines(s.trustedRoot));
  return lines.join('\n');
}

/** --atomic: what was checked first, and whether the set was then applied. */
function atomicLine(a: NonNullable<ApplySummary['atomic']>): string {
  const head = `Checked first with a server dry run (--atomic): ${count(a.checked, 'object')}`;
  if (a.wouldFail > 0) return `${head}, ${a.wouldFail} would fail; nothing was applied (below: the dry run's results)`;
  const unchecked = a.unchecked ? ` (${a.unchecked} not checked by the server: in a namespace that would be created, or of a kind not served yet)` : '';
  return `${head}, none would fail${unchecked}; ${a.applied ? 'then applied' : 'an --atomic apply would go ahead'}`;
}

function resultLine(r: ApplyResult, dryRun: ApplySummary['dryRunStrategy']): string {
  const id = `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
  if (r.action === 'failed') return `${id} failed: ${r.error ?? 'unknown error'}`;
  if (r.action === 'would-apply') return `${id} would be applied${DRY_RUN_NOTE[dryRun]}`;
  return `${id} ${r.action}${DRY_RUN_NOTE[dryRun]}${r.note ? `: ${r.note}` : ''}`;
}

function summaryLine(s: Pick<ApplySummary, 'counts' | 'context' | 'dryRunStrategy'>): string {
  const c = s.counts;
  if (s.dryRunStrategy === 'client') {
    return `${c['would-apply']} would be applied, ${c.failed} failed (context ${s.context}, client dry run: no cluster was contacted)`;
  }
  return `${c.created} created, ${c.configured} configured, ${c.unchanged} unchanged, ${c.pruned} pruned, ${c.failed} failed (context ${s.context}${s.dryRunStrategy === 'server' ? ', dry run' : ''})`;
}
