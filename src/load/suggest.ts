// "Did you mean": the known name a misspelt column or YAML key most likely stands for, by edit distance (insertions,
// deletions, substitutions and swapped neighbours), with a tolerance that shrinks for short names so that unrelated
// short columns (`id` beside `ip`, `note` beside `name`) are not taken for typos.

/** Edit distance with adjacent transpositions (optimal string alignment); stops early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let best = cur[0];
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * How far a word may be from a known name of this length and still be a typo of it: names of up to 3 letters only
 * by two swapped letters (`pi`, `asn` -> `san`), 4-5 letters by one edit (`nmae`, `nam`), longer names by two
 * (`descripton`, `regoin`).
 */
function tolerance(known: string, word: string): number {
  if (known.length <= 3) return word.length === known.length && [...word].sort().join('') === [...known].sort().join('') ? 1 : 0;
  return known.length <= 5 ? 1 : 2;
}

/**
 * The candidate closest to `word` within its tolerance (the first of equals), or undefined. `word` and the
 * candidates are compared as given: normalise both the same way first. An exact match is not a suggestion.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) return undefined;
    const max = tolerance(c, word);
    if (max === 0) continue;
    const d = editDistance(word, c, max);
    if (d <= max && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
