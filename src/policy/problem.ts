// One thing wrong with a document. `path` (into the object) lets the reader of a file point at the
// exact line; the message already names the field.
export type Path = (string | number)[];

export interface Problem {
  message: string;
  path?: Path;
}

/** ["spec", "rules", 0, "match"] → "spec.rules[0].match"; odd keys quoted: metadata.labels["a/b"]. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(root)';
}

/** A JSON pointer ("/spec/rules/0") as a path; digit segments become indexes. */
export function pointerToPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
