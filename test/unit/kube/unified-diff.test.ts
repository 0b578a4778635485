import { describe, expect, it } from 'vitest';
import { stringifyCanonical } from '../../../src/policy/yaml.ts';
import { unifiedDiff } from '../../../src/kube/unified-diff.ts';

const labels = { from: 'live/ClusterPolicy/p', to: 'merged/ClusterPolicy/p' };
const lines = (n: number, f = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => f(i + 1)).join('\n') + '\n';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', labels)).toBe('');
  });

  it('renders one change with three lines of context and headers', () => {
    const a = lines(10);
    const b = lines(10, (i) => (i === 5 ? 'changed' : `line ${i}`));
    expect(unifiedDiff(a, b, labels)).toBe(
      ['--- live/ClusterPolicy/p', '+++ merged/ClusterPolicy/p', '@@ -2,7 +2,7 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+changed', ' line 6', ' line 7', ' line 8', ''].join('\n'),
    );
  });

  it('splits distant changes into hunks and merges close ones', () => {
    const a = lines(30);
    const far = lines(30, (i) => (i === 2 || i === 28 ? `x${i}` : `line ${i}`));
    const d = unifiedDiff(a, far, labels);
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,5 +1,5 @@');
    expect(d).toContain('@@ -25,6 +25,6 @@');
    const near = lines(30, (i) => (i === 10 || i === 15 ? `x${i}` : `line ${i}`));
    expect(unifiedDiff(a, near, labels).match(/^@@/gm)).toHaveLength(1);
  });

  it('a new object is all additions from an empty range', () => {
    const d = unifiedDiff('', 'a\nb\n', labels);
    expect(d).toBe('--- live/ClusterPolicy/p\n+++ merged/ClusterPolicy/p\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  it('a removal of everything', () => {
    expect(unifiedDiff('a\n', '', labels)).toBe('--- live/ClusterPolicy/p\n+++ merged/ClusterPolicy/p\n@@ -1 +0,0 @@\n-a\n');
  });

  it('aligns on the longest common subsequence (insertions and deletions in one hunk)', () => {
    const d = unifiedDiff('a\nb\nc\nd\n', 'a\nc\nd\ne\n', labels);
    expect(d).toBe('--- live/ClusterPolicy/p\n+++ merged/ClusterPolicy/p\n@@ -1,4 +1,4 @@\n a\n-b\n c\n d\n+e\n');
  });

  it('applying the hunks to the old text gives the new text (canonical YAML of policies)', () => {
    const live = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p', labels: { a: '1' } }, spec: { background: true, rules: [{ name: 'r1', match: { any: [{ resources: { kinds: ['Pod'] } }] } }] } };
    const merged = structuredClone(live) as typeof live & { spec: { validationFailureAction?: string } };
    merged.spec.background = false;
    merged.spec.rules.push({ name: 'r2', match: { any: [{ resources: { kinds: ['Deployment'] } }] } });
    delete (merged.metadata as { labels?: unknown }).labels;
    const a = stringifyCanonical(live);
    const b = stringifyCanonical(merged);
    expect(patch(a, unifiedDiff(a, b, labels))).toBe(b);
  });
});

/** Applies a unified diff (as produced above) to `text`. */
function patch(text: string, diff: string): string {
  const src = text.split('\n').slice(0, -1);
  const out: string[] = [];
  let pos = 0;
  const lines = diff.split('\n').slice(2, -1);
  for (const line of lines) {
    const h = /^@@ -(\d+)(?:,(\d+))? /.exec(line);
    if (h) {
      const start = Number(h[1]) - (h[2] === '0' ? 0 : 1);
      while (pos < start) out.push(src[pos++]!);
      continue;
    }
    if (line.startsWith(' ')) out.push(src[pos++]!);
    else if (line.startsWith('-')) pos++;
    else if (line.startsWith('+')) out.push(line.slice(1));
  }
  while (pos < src.length) out.push(src[pos++]!);
  return out.join('\n') + '\n';
}

describe('unifiedDiff output format', () => {
  it('has only our headers (no Index: or === lines), and marks a missing final newline', () => {
    const d = unifiedDiff('a\nb', 'a\nc', labels);
    expect(d).toBe('--- live/ClusterPolicy/p\n+++ merged/ClusterPolicy/p\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n');
  });

  it('handles large objects quickly (thousands of lines, scattered changes)', () => {
    const a = lines(20_000);
    const b = lines(20_000, (i) => (i % 1000 === 0 ? `changed ${i}` : `line ${i}`));
    const t0 = performance.now();
    const d = unifiedDiff(a, b, labels);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(d.match(/^@@/gm)).toHaveLength(20);
    expect(patch(a, d)).toBe(b);
  });
});
