// Token scopes ("repository:<name>:<actions>") after the distribution token spec: built per
// request, merged (actions united per resource) and sorted so equal sets give equal cache keys.

export type Action = 'pull' | 'push' | 'delete' | '*';

export function repositoryScope(repository: string, ...actions: Action[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export const pullScope = (repository: string): string => repositoryScope(repository, 'pull');
export const pushScope = (repository: string): string => repositoryScope(repository, 'pull', 'push');

/** Unites the actions of every resource; "*" swallows the rest. Sorted, duplicates gone. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const scope of scopes) {
    for (const part of scope.split(' ')) {
      if (part === '') continue;
      const first = part.indexOf(':');
      const last = part.lastIndexOf(':');
      if (first <= 0 || last === first) {
        opaque.add(part);
        continue;
      }
      const resource = part.slice(0, last);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of part.slice(last + 1).split(',')) if (action !== '') actions.add(action);
      byResource.set(resource, actions);
    }
  }
  const merged = [...opaque];
  for (const [resource, actions] of byResource) {
    if (actions.size === 0) continue;
    const list = actions.has('*') ? ['*'] : [...actions].sort();
    merged.push(`${resource}:${list.join(',')}`);
  }
  return merged.sort();
}
