// export: files written, what would be pushed (dry run), or what was pushed.
import type { ExportResult } from '../core/export.ts';

export function exportText(r: ExportResult): string {
  switch (r.mode) {
    case 'files':
      return `Exported ${r.files.length} policies from context ${r.context} into ${r.directory}`;
    case 'dry-run':
      return [`Would push ${r.policies} policies from context ${r.context} to ${r.reference} as ${r.digest}`, ...r.objects.map((o) => `  ${o}`)].join('\n');
    case 'push':
      return r.unchanged
        ? `unchanged: ${r.reference} already holds the ${r.policies} policies of context ${r.context} (${r.digest})`
        : `Exported ${r.policies} policies (${r.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) from context ${r.context} to ${r.reference}\nDigest: ${r.digest}`;
  }
}
