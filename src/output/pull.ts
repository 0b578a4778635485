// Text for `pull` (writing files): where the policies came from, then one line per file, and the
// Sigstore trusted root when a signature needed one.
import type { PullResult } from '../core/pull.ts';
import { count } from '../util/plural.ts';
import { trustedRootLines } from './trustroot.ts';

export function pullText(r: PullResult): string {
  // A plain pull read the one artifact the reference names; --from-referrers read those attached to it.
  const from = r.artifacts.length === 1 && r.artifacts[0] === r.digest ? r.digest : `${count(r.artifacts.length, 'artifact')} attached to ${r.digest}`;
  return [
    `Pulled ${count(r.files.length, 'policy')} from ${r.reference} (${from})${r.verified ? ', signature verified,' : ''} into ${r.directory}`,
    ...r.files.map((f) => `  ${f.file}\t${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`),
    ...trustedRootLines(r.trustedRoot),
  ].join('\n');
}
