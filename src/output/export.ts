// export: files written, what would be pushed (dry run), or what was pushed.
import type { ExportResult } from '../core/export.ts';
import { count } from '../util/plural.ts';
import { engineDigestLines } from './push.ts';

export function exportText(r: ExportResult): string {
  switch (r.mode) {
    case 'files':
      return `Exported ${count(r.files.length, 'policy')} from context ${r.context} into ${r.directory}`;
    case 'dry-run':
      return [`Would push ${count(r.policies, 'policy')} from context ${r.context} to ${r.reference} as ${r.digest}`, ...r.objects.map((o) => `  ${o}`)].join('\n');
    case 'push':
      return r.unchanged
        ? [`unchanged: ${r.reference} already holds the ${count(r.policies, 'policy')} of context ${r.context} (${r.digest})`, ...engineDigestLines(r.engines)].join('\n')
        : [`Exported ${count(r.policies, 'policy')} (${r.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) from context ${r.context} to ${r.reference}`, `Digest: ${r.digest}`, ...engineDigestLines(r.engines)].join('\n');
  }
}
