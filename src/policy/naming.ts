// File names for pulled policies. Names are derived from the objects (never from a registry's title
// annotation, which is untrusted), made safe for every file system, and never collide.
import type { KubeObject } from './types.ts';

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_BASE = 180;

/** A path-free, portable file-name part: [a-z0-9._-], no leading dot, no Windows device names. */
export function safeNamePart(raw: string): string {
  let s = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_BASE);
  if (s === '') s = 'unnamed';
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  return s;
}

function objectKey(o: KubeObject, withKind: boolean, withNamespace: boolean): string {
  const parts: string[] = [];
  if (withKind) parts.push(o.kind);
  if (withNamespace && o.metadata.namespace) parts.push(o.metadata.namespace);
  parts.push(o.metadata.name);
  return parts.map(safeNamePart).join('-');
}

/**
 * One file name per object, in the same order. `<name>.yaml` when the name is unique in the set,
 * else `<kind>-<namespace>-<name>.yaml`, and `-2`, `-3`… for what still collides. The caller sorts
 * the objects first, so the same set always gets the same names.
 */
export function assignFileNames(objects: KubeObject[], extension = '.yaml'): string[] {
  const count = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
  const simple = objects.map((o) => objectKey(o, false, false));
  const simpleCounts = count(simple);
  const chosen = objects.map((o, i) => ((simpleCounts.get(simple[i]!) ?? 0) > 1 ? objectKey(o, true, true) : simple[i]!));
  const used = new Set<string>();
  return chosen.map((base) => {
    let name = `${base}${extension}`;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}${extension}`;
    used.add(name.toLowerCase());
    return name;
  });
}
