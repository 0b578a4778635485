// Several contexts at once (apply, pull --apply, diff, status): what needs reading per context
// (failed objects, diffs, drift), then one table, context × created/configured/unchanged/pruned/
// failed/drifted, and a line of totals. --format json prints the FleetResult itself.
import type { ApplyFleetResult } from '../core/apply.ts';
import type { DiffFleetResult } from '../core/diff.ts';
import { FLEET_COUNTS, type ContextOutcome, type FleetResult } from '../core/fleet.ts';
import type { ObjectFields } from '../kube/result.ts';
import { count } from '../util/plural.ts';
import { trustedRootLines } from './trustroot.ts';

const HEADERS = ['CONTEXT', 'STATUS', ...FLEET_COUNTS.map((k) => k.toUpperCase())];

// Hand-written: a padded column layout is a few lines; a table library would add a dependency to the executable.
function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

function statusOf(o: ContextOutcome<unknown>, differs: string): string {
  if (o.status !== 'ok') return o.status;
  return o.differs ? differs : 'ok';
}

/** The table and the totals line; `differs` names an ok context with differences (diff, status). */
export function fleetTable(r: FleetResult<unknown>, options: { differs?: string; caption?: string } = {}): string[] {
  const rows = [HEADERS, ...r.contexts.map((o) => [o.context, statusOf(o, options.differs ?? 'ok'), ...FLEET_COUNTS.map((k) => (o.status === 'ok' || o.result !== undefined ? String(o.counts[k]) : '-'))])];
  const t = r.totals;
  const parts = [`${t.ok} of ${count(t.contexts, 'context')} ok`, t.failed ? `${t.failed} failed` : '', t.skipped ? `${t.skipped} skipped (--fail-fast)` : '', options.differs && t.differ ? `${t.differ} ${options.differs}` : ''];
  return [...(options.caption ? [options.caption] : []), ...columns(rows), parts.filter(Boolean).join(', ')];
}

/** Why each failed or skipped context failed, one line each (object failures are listed by the verb). */
export function contextErrors(r: FleetResult<unknown>): string[] {
  return r.contexts.filter((o) => o.status !== 'ok' && o.result === undefined).flatMap((o) => [`${o.context}: ${o.status === 'skipped' ? 'skipped' : 'failed'}: ${o.error?.message ?? ''}`, ...(o.error?.details ?? []).map((d) => `    ${d}`)]);
}

function id(r: ObjectFields): string {
  return `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function applyFleetText(r: ApplyFleetResult): string {
  const lines: string[] = [];
  for (const o of r.contexts) {
    const s = o.result;
    if (!s) continue;
    for (const x of s.results) {
      if (x.action === 'failed') lines.push(`${o.context}: ${id(x)} failed: ${x.error ?? 'unknown error'}`, ...(x.details ?? []).map((d) => `    ${d}`));
      else if (x.drifted) lines.push(`${o.context}: ${id(x)} had drifted from ${shortDigest(r.digest)}: put back`);
    }
    if (s.atomic && !s.atomic.applied && s.atomic.wouldFail > 0) lines.push(`${o.context}: --atomic: ${s.atomic.wouldFail} of ${count(s.atomic.checked, 'object')} would fail; nothing was applied`);
  }
  lines.push(...contextErrors(r));
  const first = r.contexts.find((o) => o.result)?.result;
  const dry = first?.dryRunStrategy ?? 'none';
  const note = dry === 'client' ? ` (client dry run: ${first!.counts['would-apply']} would be applied in each context, none was contacted)` : dry === 'server' ? ' (server dry run)' : '';
  const caption = `apply ${r.reference}@${shortDigest(r.digest)}${note}:`;
  lines.push(...(lines.length ? [''] : []), ...fleetTable(r, { caption }), ...trustedRootLines(r.trustedRoot));
  return lines.join('\n');
}

export function diffFleetText(r: DiffFleetResult): string {
  const lines: string[] = [];
  for (const o of r.contexts) {
    const s = o.result;
    if (!s) continue;
    const shown = s.results.filter((x) => x.diff || x.change === 'error' || x.drift);
    if (shown.length === 0) continue;
    lines.push(`# context ${o.context}`);
    for (const x of shown) {
      if (x.drift) lines.push(`${id(x)}: drifted (${x.drift}${x.driftBy?.length ? ` by ${x.driftBy.join(', ')}` : ''}) from ${shortDigest(r.digest)}`);
      if (x.diff) lines.push(x.diff.trimEnd());
      if (x.change === 'error') lines.push(`${id(x)}: ${x.error ?? 'error'}`);
    }
  }
  lines.push(...contextErrors(r));
  const caption = `diff ${r.reference}@${shortDigest(r.digest)} (what apply would do):`;
  lines.push(...(lines.length ? [''] : []), ...fleetTable(r, { differs: 'differ', caption }), ...trustedRootLines(r.trustedRoot));
  return lines.join('\n');
}

/** sha256:0123456789ab (12 hex digits, as docker shows image IDs). */
export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(':');
  return hex ? `${alg}:${hex.slice(0, 12)}` : digest;
}
