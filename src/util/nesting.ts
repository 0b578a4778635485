/** Deeper than any policy needs; recursive readers and writers (YAML, clones) stay far from the stack's end. */
export const MAX_NESTING = 256;

/** True when `value` nests objects/arrays deeper than `max` levels (checked without recursion). */
export function nestedDeeperThan(value: unknown, max: number = MAX_NESTING): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
