// Text for `tags`: one tag per line (nothing for a repository without tags).
import type { TagsResult } from '../core/tags.ts';

export function tagsText(r: TagsResult): string {
  return r.tags.join('\n');
}
