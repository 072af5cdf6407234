// A small line diff (longest common subsequence) for "what will change" when a pipeline is set
// (`jetway set-pipeline` and the set_pipeline step):
// changed lines with a few lines of context, hunks separated by `…`. Pipelines are at most a
// few thousand lines, so the O(n·m) table is fine; very large inputs fall back to a plain
// "all removed / all added" listing.

export type DiffLine = { kind: ' ' | '-' | '+'; text: string };

const MAX_CELLS = 25_000_000;

/** `maxCells` bounds the table's memory (4 bytes a cell); the web node asks for less than the CLI. */
export function diffLines(before: string, after: string, maxCells = MAX_CELLS): DiffLine[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // trim the common prefix and suffix first: most edits are small
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const out: DiffLine[] = a.slice(0, start).map((text) => ({ kind: ' ', text }));
  if ((midA.length + 1) * (midB.length + 1) > maxCells) {
    out.push(...midA.map((text) => ({ kind: '-' as const, text })), ...midB.map((text) => ({ kind: '+' as const, text })));
  } else {
    const n = midA.length;
    const m = midB.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        out.push({ kind: ' ', text: midA[i]! });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        out.push({ kind: '-', text: midA[i]! });
        i++;
      } else {
        out.push({ kind: '+', text: midB[j]! });
        j++;
      }
    }
  }
  out.push(...a.slice(endA).map((text) => ({ kind: ' ' as const, text })));
  return out;
}

/** The diff as text: changed lines prefixed `-`/`+`, `context` unchanged lines around them. */
export function formatDiff(lines: DiffLine[], context = 3): string {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((l, i) => {
    if (l.kind === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  let out = '';
  let skipped = false;
  lines.forEach((l, i) => {
    if (!keep[i]) {
      skipped = true;
      return;
    }
    if (skipped && out !== '') out += '  …\n';
    skipped = false;
    out += `${l.kind} ${l.text}\n`;
  });
  return out;
}

export const hasChanges = (lines: DiffLine[]): boolean => lines.some((l) => l.kind !== ' ');
