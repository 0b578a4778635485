// diff: the unified diffs, then what could not be compared, then one summary line (and the Sigstore
// trusted root when a signature needed one).
import type { DiffSummary } from '../core/diff.ts';
import { count } from '../util/plural.ts';
import { trustedRootLines } from './trustroot.ts';

export function diffText(s: DiffSummary): string {
  return [
    ...s.results.filter((r) => r.diff).map((r) => r.diff.trimEnd()),
    ...s.results.filter((r) => r.change === 'error').map((r) => `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.error ?? 'error'}`),
    ...s.results.filter((r) => r.drift).map((r) => `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name}: drifted (${r.drift}${r.driftBy?.length ? ` by ${r.driftBy.join(', ')}` : ''}) from the digest applied here`),
    `${s.changed} of ${count(s.results.length, 'object')} would change in context ${s.context}`,
    ...trustedRootLines(s.trustedRoot),
  ].join('\n');
}
