// apply --wait (and rollback --wait): one line per policy saying what its engine reported, then a
// summary. Only the first line of a multi-line engine message (a CEL error's caret drawing): the
// whole of it is in --format json.
import type { ReadinessResult, ReadinessSummary } from '../kube/readiness.ts';

const SAID = { ready: 'in force', failed: 'refused by its engine', 'timed-out': 'not in force in time', 'not-reported': 'not reported' } as const;

export function readinessLines(r: ReadinessSummary | undefined): string[] {
  if (!r) return [];
  const lines = r.results.flatMap(resultLines);
  const c = r.counts;
  lines.push(`--wait: ${c.ready} in force, ${c['not-reported']} not reported, ${c.failed} refused, ${c['timed-out']} not in force within ${seconds(r.timeoutMs)}`);
  return lines;
}

function resultLines(r: ReadinessResult): string[] {
  const id = `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
  const message = r.message ? `: ${firstLine(r.message)}` : '';
  const by = r.reporter && r.outcome !== 'not-reported' ? ` (${r.reporter})` : '';
  return [`${id} ${SAID[r.outcome]}${by}${message}`, ...(r.warnings ?? []).map((w) => `    warning: ${firstLine(w)}`)];
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
