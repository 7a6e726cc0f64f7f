// Line numbers as sorted, merged ranges: `--only 4,7-9,1-1000000` holds one entry per range, never one per line.

export class LineRanges {
  private constructor(
    private readonly starts: readonly number[],
    private readonly ends: readonly number[],
  ) {}

  /** Ranges [from, to] (inclusive, from <= to), in any order; overlapping and touching ones are merged. */
  static of(ranges: Iterable<readonly [number, number]>): LineRanges {
    const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [from, to] of sorted) {
      const last = ends.length - 1;
      if (last >= 0 && from <= ends[last]! + 1) ends[last] = Math.max(ends[last]!, to);
      else {
        starts.push(from);
        ends.push(to);
      }
    }
    return new LineRanges(starts, ends);
  }

  /** Whether `line` is in a range: a binary search over the ranges. */
  has(line: number): boolean {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (line < this.starts[mid]!) hi = mid - 1;
      else if (line > this.ends[mid]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The merged ranges, in order. */
  toArray(): Array<[number, number]> {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }
}
