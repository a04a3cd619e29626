// A small line diff for `mreg upgrade --dry-run`: unit files are a few dozen lines, so a plain LCS table is enough.

export interface DiffLine { op: ' ' | '-' | '+'; text: string }

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** Line-by-line edit script from `before` to `after` (longest common subsequence). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) { out.push({ op: ' ', text: a[i]! }); i++; j++; }
    // Removals before additions at a tie, as diff(1) prints them.
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ op: '-', text: a[i++]! });
    else out.push({ op: '+', text: b[j++]! });
  }
  return out;
}

/**
 * Unified-style diff of one file with `context` unchanged lines around each change; '' when equal.
 * `before` undefined: the file does not exist yet; `after` undefined: it is removed.
 */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after) return '';
  const d = diffLines(before ?? '', after ?? '');
  const keep = new Array<boolean>(d.length).fill(false);
  d.forEach((l, k) => {
    if (l.op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(d.length - 1, k + context); x++) keep[x] = true;
  });
  const body: string[] = [];
  let skipped = false;
  d.forEach((l, k) => {
    if (!keep[k]) { skipped = true; return; }
    if (skipped || body.length === 0) body.push('@@');
    skipped = false;
    body.push(`${l.op}${l.text}`);
  });
  return [`--- ${before === undefined ? '/dev/null' : path}`, `+++ ${after === undefined ? '/dev/null' : path}`, ...body].join('\n');
}
