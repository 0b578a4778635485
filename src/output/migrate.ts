// migrate: where the policies came from and went through, then apply's lines and summary.
import type { MigrateSummary } from '../core/migrate.ts';
import { applyText } from './apply.ts';
import { count } from '../util/plural.ts';

export function migrateText(s: MigrateSummary): string {
  return [`Exported ${count(s.exported, 'policy')} from ${s.from}${viaText(s)}`, applyText(s)].join('\n');
}

function viaText(s: MigrateSummary): string {
  if (!s.via) return '';
  if (s.via.pushed) return ` through ${s.via.reference} (${s.via.digest})`;
  return `; dry run: not pushed to ${s.via.reference} (it would hold ${s.via.digest})`;
}
