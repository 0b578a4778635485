// A small line-based unified diff (LCS), enough for policy YAML: common prefix and suffix are
// trimmed first, so the quadratic table only covers the changed middle.

export interface DiffLabels {
  from: string;
  to: string;
}

type Op = { t: ' ' | '-' | '+'; line: string };

/** Beyond this many table cells the middle is shown as removed-then-added instead of aligned. */
const MAX_CELLS = 25_000_000;

export function unifiedDiff(a: string, b: string, labels: DiffLabels, context = 3): string {
  if (a === b) return '';
  const ops = diffLines(splitLines(a), splitLines(b));
  const hunks = hunkRanges(ops, context);
  if (hunks.length === 0) return '';
  // Lines of a and b consumed before each op, for the hunk headers.
  const aBefore = new Array<number>(ops.length + 1);
  const bBefore = new Array<number>(ops.length + 1);
  aBefore[0] = bBefore[0] = 0;
  ops.forEach((op, i) => {
    aBefore[i + 1] = aBefore[i]! + (op.t === '+' ? 0 : 1);
    bBefore[i + 1] = bBefore[i]! + (op.t === '-' ? 0 : 1);
  });
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const [s, e] of hunks) {
    const aLen = aBefore[e]! - aBefore[s]!;
    const bLen = bBefore[e]! - bBefore[s]!;
    // GNU diff: an empty range is shown starting at the line before it.
    const aStart = aLen === 0 ? aBefore[s]! : aBefore[s]! + 1;
    const bStart = bLen === 0 ? bBefore[s]! : bBefore[s]! + 1;
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (let i = s; i < e; i++) out.push(`${ops[i]!.t}${ops[i]!.line}`);
  }
  return `${out.join('\n')}\n`;
}

function range(start: number, len: number): string {
  return len === 1 ? `${start}` : `${start},${len}`;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const ops: Op[] = a.slice(0, pre).map((line) => ({ t: ' ', line }));
  ops.push(...middle(am, bm));
  ops.push(...a.slice(a.length - suf).map((line): Op => ({ t: ' ', line })));
  return ops;
}

function middle(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_CELLS) {
    return [...a.map((line): Op => ({ t: '-', line })), ...b.map((line): Op => ({ t: '+', line }))];
  }
  // L[i][j] = length of the LCS of a[i:] and b[j:].
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = a[i] === b[j] ? L[(i + 1) * w + j + 1]! + 1 : Math.max(L[(i + 1) * w + j]!, L[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ t: ' ', line: a[i++]! });
      j++;
    } else if (L[(i + 1) * w + j]! >= L[i * w + j + 1]!) {
      ops.push({ t: '-', line: a[i++]! });
    } else {
      ops.push({ t: '+', line: b[j++]! });
    }
  }
  while (i < n) ops.push({ t: '-', line: a[i++]! });
  while (j < m) ops.push({ t: '+', line: b[j++]! });
  return ops;
}

/** [start, end) op ranges: each change with `context` lines around it, overlapping ones merged. */
function hunkRanges(ops: Op[], context: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  ops.forEach((op, i) => {
    if (op.t === ' ') return;
    const s = Math.max(0, i - context);
    const e = Math.min(ops.length, i + context + 1);
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  });
  return out;
}
