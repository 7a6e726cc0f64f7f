// "Did you mean" for names the manifest references (profiles, device types): the closest known name, by edit distance.

function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name closest to `word` (case, `_` and `-` aside) within a third of its length, or undefined. */
export function closestName(word: string, names: Iterable<string>): string | undefined {
  if (word.length > 100) return undefined;
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  const w = norm(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const max = Math.max(1, Math.floor(n.length / 3));
    const d = distance(w, norm(n), max);
    if (d <= max && d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}
