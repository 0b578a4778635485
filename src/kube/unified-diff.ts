// A line-based unified diff of two texts (jsdiff's Myers diff), written the way GNU diff writes it:
// `--- from` / `+++ to` headers, then the hunks; no "Index:"/"===" lines, and a range of one line
// is shown as `-5`, not `-5,1`.
import { structuredPatch, type StructuredPatchHunk } from 'diff';

export interface DiffLabels {
  from: string;
  to: string;
}

/** "" when the texts are equal. */
export function unifiedDiff(a: string, b: string, labels: DiffLabels, context = 3): string {
  if (a === b) return '';
  const { hunks } = structuredPatch(labels.from, labels.to, a, b, undefined, undefined, { context });
  if (hunks.length === 0) return '';
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const hunk of hunks) out.push(hunkHeader(hunk), ...hunk.lines);
  return `${out.join('\n')}\n`;
}

function hunkHeader(h: StructuredPatchHunk): string {
  return `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`;
}

/** GNU diff: an empty range starts at the line before it; a one-line range has no length. */
function range(start: number, lines: number): string {
  if (lines === 0) return `${start - 1},0`;
  return lines === 1 ? `${start}` : `${start},${lines}`;
}
