// status: per context, the artifact digests live there (repository, digest, tag, how many
// policies, when and by what applied) and the objects that drifted from them; then the fleet table.
import type { StatusFleetResult } from '../core/status.ts';
import { count } from '../util/plural.ts';
import { contextErrors, shortDigest } from './fleet.ts';

function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function statusText(r: StatusFleetResult): string {
  const lines: string[] = [];
  for (const o of r.contexts) {
    const s = o.result;
    if (!s) continue;
    lines.push(`context ${o.context} (${s.server})`);
    if (s.artifacts.length === 0) lines.push(`  no policies applied by kubectl-policyoci${r.repository ? ` from ${r.repository}` : ''}`);
    else {
      const rows = [['REPOSITORY', 'DIGEST', 'TAG', 'POLICIES', 'DRIFTED', 'APPLIED', 'BY']];
      for (const a of s.artifacts) {
        rows.push([a.repository, a.digest ? shortDigest(a.digest) : '-', a.tags.join(',') || '-', String(a.policies), a.compared ? String(a.drifted.length) : '?', a.appliedAt ?? '-', a.appliedBy.join(',') || '-']);
      }
      lines.push(...columns(rows).map((l) => `  ${l}`));
      for (const a of s.artifacts) {
        const at = `${a.repository}@${a.digest ? shortDigest(a.digest) : '-'}`;
        if (!a.digest) lines.push(`  ${at}: not compared (the objects record no digest)`);
        if (a.error) lines.push(`  ${at}: not compared: ${a.error}`);
        for (const d of a.drifted) {
          const id = `${d.kind.toLowerCase()}/${d.namespace ? `${d.namespace}/` : ''}${d.name}`;
          const by = d.by?.length ? ` (${d.drift === 'foreign' ? 'now' : 'by'} ${d.by.join(', ')})` : '';
          lines.push(`  ${id}: ${d.drift}${by}, from ${at}`);
        }
      }
    }
    for (const w of s.warnings) lines.push(`  warning: ${w}`);
  }
  lines.push(...contextErrors(r));
  const rows = [['CONTEXT', 'STATUS', 'ARTIFACTS', 'POLICIES', 'DRIFTED']];
  for (const o of r.contexts) {
    const s = o.result;
    rows.push([o.context, o.status === 'ok' ? (o.differs ? 'drifted' : 'ok') : o.status, s ? String(s.artifacts.length) : '-', s ? String(s.artifacts.reduce((n, a) => n + a.policies, 0)) : '-', s ? String(s.drifted) : '-']);
  }
  const t = r.totals;
  lines.push('', ...columns(rows), [`${t.ok} of ${count(t.contexts, 'context')} ok`, t.failed ? `${t.failed} failed` : '', t.skipped ? `${t.skipped} skipped (--fail-fast)` : '', t.differ ? `${t.differ} drifted` : ''].filter(Boolean).join(', '));
  return lines.join('\n');
}
