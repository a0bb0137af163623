/**
 * Which rows of a stream to keep: all, the first N, or a seeded uniform sample of N (reservoir
 * sampling, one pass, memory for N rows only).
 */
import { Rng } from '../../rng';

export type RowSelection =
  | { mode: 'all' }
  | { mode: 'first'; count: number }
  | { mode: 'sample'; count: number; seed: number };

/**
 * Decides, row by row, where a valid row goes: a slot index (append when slot === kept count,
 * overwrite otherwise) or -1 to drop it. Algorithm R: row n (0-based) replaces a random slot
 * with probability N / (n + 1), which leaves every row in the sample with probability N / total.
 */
export class RowSampler {
  /** Valid rows offered so far. */
  seen = 0;
  /** Slots in use. */
  kept = 0;
  private readonly capacity: number;
  private readonly rng: Rng | null;

  constructor(readonly selection: RowSelection) {
    this.capacity =
      selection.mode === 'all'
        ? Number.POSITIVE_INFINITY
        : Math.max(0, Math.floor(selection.count));
    this.rng = selection.mode === 'sample' ? new Rng(selection.seed) : null;
  }

  /** True once 'first N' has its N rows: the reader can stop. */
  get done(): boolean {
    return this.selection.mode === 'first' && this.kept >= this.capacity;
  }

  /** True when the kept rows are not in stream order (a reservoir that replaced some). */
  get reordered(): boolean {
    return this.selection.mode === 'sample' && this.seen > this.capacity;
  }

  next(): number {
    const n = this.seen++;
    if (this.kept < this.capacity) return this.kept++;
    if (!this.rng) return -1;
    const j = Math.floor(this.rng.next() * (n + 1));
    return j < this.capacity ? j : -1;
  }
}

/**
 * The order that puts reservoir slots back in stream order (by the stream ordinal each slot
 * holds), so that a sample keeps the file's time order for time-ordered splits.
 */
export function streamOrder(ordinals: Int32Array, count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => ordinals[a] - ordinals[b]);
  return order;
}

/** out[i * width ..] = src[order[i] * width ..] */
export function permuteRows<T extends Int32Array | Float32Array | Float64Array>(
  src: T,
  order: Int32Array,
  width: number,
  out: T,
): T {
  for (let i = 0; i < order.length; i++) {
    const from = order[i] * width;
    const to = i * width;
    for (let k = 0; k < width; k++) out[to + k] = src[from + k];
  }
  return out;
}
