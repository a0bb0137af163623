/**
 * What PEP's charts show about the learned sizes: a feature's embedding size is the number of
 * non-zero dimensions of its row of V̂.
 */
import type { CtrDataset } from '../../data/dataset';
import type { PepTable } from './pepTable';

/** Features by size: counts for sizes 0..d (edges 0..d+1). */
export function sizeHistogram(table: PepTable): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(table.d + 1).fill(0);
  for (let row = 0; row < table.rowNonZeros.length; row++) counts[table.rowNonZeros[row]]++;
  return { edges: Array.from({ length: table.d + 2 }, (_, i) => i), counts };
}

/** Mean size of each field's features. */
export function fieldSizes(table: PepTable, ds: CtrDataset): number[] {
  return Array.from(ds.fieldDims, (n, f) => {
    let sum = 0;
    const start = ds.fieldOffsets[f];
    for (let row = start; row < start + n; row++) sum += table.rowNonZeros[row];
    return n > 0 ? sum / n : 0;
  });
}

/** Occurrence buckets 0, 1, 2-3, 4-7, ... (powers of two) of the training counts. */
export function frequencyBuckets(counts: Int32Array): { bucketOf: Uint8Array; labels: string[] } {
  const bucketOf = new Uint8Array(counts.length);
  let top = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    const b = c === 0 ? 0 : 1 + Math.floor(Math.log2(c));
    bucketOf[i] = b;
    if (b > top) top = b;
  }
  const labels = Array.from({ length: top + 1 }, (_, b) => {
    if (b === 0) return '0';
    const lo = 2 ** (b - 1);
    const hi = 2 ** b - 1;
    return lo === hi ? String(lo) : `${lo}–${hi}`;
  });
  return { bucketOf, labels };
}

/** Mean size per occurrence bucket (NaN-free: empty buckets report 0). */
export function sizeByFrequency(table: PepTable, bucketOf: Uint8Array, buckets: number): number[] {
  const sum = new Float64Array(buckets);
  const n = new Float64Array(buckets);
  for (let row = 0; row < table.rowNonZeros.length; row++) {
    sum[bucketOf[row]] += table.rowNonZeros[row];
    n[bucketOf[row]]++;
  }
  return Array.from(sum, (s, b) => (n[b] > 0 ? s / n[b] : 0));
}

/** Quantile q of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Smallest value drawn on the log-scale threshold chart (a threshold of exactly 0 sits there). */
export const LOG_FLOOR = 1e-12;

/**
 * Quantiles (10/50/90%) of the thresholds and of |V| over a fixed sample of entries: cheap
 * enough for every step, and the same entries each time so the lines are smooth.
 */
export class EntrySample {
  private readonly entries: Int32Array;
  private readonly thresholds: Float64Array;
  private readonly magnitudes: Float64Array;

  constructor(size: number, total: number, seed: number) {
    const n = Math.min(size, total);
    this.entries = new Int32Array(n);
    let state = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      this.entries[i] = n === total ? i : state % total;
    }
    this.thresholds = new Float64Array(n);
    this.magnitudes = new Float64Array(n);
  }

  quantiles(table: PepTable): { threshold: number[]; magnitude: number[] } {
    const d = table.d;
    const w = table.v.weights;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      this.thresholds[i] = Math.max(LOG_FLOOR, table.thresholdOf(Math.floor(e / d), e % d));
      this.magnitudes[i] = Math.max(LOG_FLOOR, Math.abs(w[e]));
    }
    this.thresholds.sort();
    this.magnitudes.sort();
    const qs = [0.1, 0.5, 0.9];
    return {
      threshold: qs.map((q) => quantile(this.thresholds, q)),
      magnitude: qs.map((q) => quantile(this.magnitudes, q)),
    };
  }
}
