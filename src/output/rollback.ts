// rollback: which version the repository goes back from and to, how it was chosen, then apply's
// lines (created, configured, unchanged, pruned, failed) for what changed. Over several contexts:
// one line per context (from, to), the objects that failed, then the fleet table.
import type { RollbackFleetResult, RollbackSummary } from '../core/rollback.ts';
import { applyText } from './apply.ts';
import { contextErrors, fleetTable } from './fleet.ts';

const CHOSEN = {
  'previous-digest': 'the version the objects record as the one before the last apply',
  'to-digest': '--to',
  'to-tag': '--to',
} as const;

function fromTo(s: RollbackSummary): string {
  const r = s.rollback;
  const to = r.toTag ? `${r.to} (tag ${r.toTag})` : r.to;
  return `${r.from ? ` from ${r.from}` : ''} to ${to}: ${CHOSEN[r.chosenBy]}`;
}

export function rollbackText(s: RollbackSummary): string {
  const head = `${s.dryRun ? 'Would roll back' : 'Rolled back'} ${s.rollback.repository} in context ${s.context}${fromTo(s)}`;
  return [head, applyText(s)].join('\n');
}

export function rollbackFleetText(r: RollbackFleetResult): string {
  const lines: string[] = [];
  for (const o of r.contexts) {
    const s = o.result;
    if (!s) continue;
    lines.push(`${o.context}:${fromTo(s)}`);
    for (const x of s.results) {
      if (x.action === 'failed') lines.push(`${o.context}: ${x.kind.toLowerCase()}/${x.namespace ? `${x.namespace}/` : ''}${x.name} failed: ${x.error ?? 'unknown error'}`);
    }
  }
  lines.push(...contextErrors(r));
  const dry = r.contexts.find((o) => o.result)?.result?.dryRun ? ' (server dry run)' : '';
  lines.push('', ...fleetTable(r, { caption: `rollback ${r.repository}${dry}:` }));
  return lines.join('\n');
}
