/** Levenshtein distance between two short names. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to `n` of `names` closest to `wanted`: substrings first, then by edit distance. */
export function closest(wanted: string, names: Iterable<string>, n = 3): string[] {
  const w = wanted.toLowerCase();
  const scored = [...new Set(names)].map((name) => {
    const l = name.toLowerCase();
    const d = l.includes(w) || w.includes(l) ? 0 : editDistance(w, l);
    return { name, d };
  });
  const limit = Math.max(2, Math.ceil(wanted.length / 2));
  return scored
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, n)
    .map((s) => s.name);
}
