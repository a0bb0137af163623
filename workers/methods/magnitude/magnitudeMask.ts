/**
 * The mask of magnitude pruning: zero the `sparsity` share of entries with the smallest |v|,
 * over the whole table or within each field. Exactly round(sparsity * n) entries are pruned
 * (ties at the threshold broken by position).
 */

/** The k-th smallest value (0-based) of `values`, which it reorders (quickselect). */
export function kthSmallest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

/** Marks entries [start, end) of `weights`: the `prune` smallest |v| get 0, the rest 1. */
function maskRange(
  weights: Float32Array,
  mask: Uint8Array,
  start: number,
  end: number,
  prune: number,
): number {
  const n = end - start;
  if (prune <= 0) {
    mask.fill(1, start, end);
    return Number.NEGATIVE_INFINITY;
  }
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) abs[i] = Math.abs(weights[start + i]);
  const threshold = kthSmallest(abs, Math.min(n, prune) - 1);
  let below = 0;
  for (let i = start; i < end; i++) if (Math.abs(weights[i]) < threshold) below++;
  let ties = Math.min(n, prune) - below;
  for (let i = start; i < end; i++) {
    const a = Math.abs(weights[i]);
    if (a < threshold) mask[i] = 0;
    else if (a === threshold && ties > 0) {
      mask[i] = 0;
      ties--;
    } else mask[i] = 1;
  }
  return threshold;
}

export interface MagnitudeMask {
  mask: Uint8Array;
  /** The threshold |v| of each range pruned (one for 'global', one per field otherwise). */
  thresholds: number[];
}

export function magnitudeMask(
  weights: Float32Array,
  dim: number,
  sparsity: number,
  fieldRows: ArrayLike<number> | null,
): MagnitudeMask {
  const mask = new Uint8Array(weights.length);
  if (!fieldRows) {
    const threshold = maskRange(
      weights,
      mask,
      0,
      weights.length,
      Math.round(sparsity * weights.length),
    );
    return { mask, thresholds: [threshold] };
  }
  const thresholds: number[] = [];
  let start = 0;
  for (let f = 0; f < fieldRows.length; f++) {
    const end = start + fieldRows[f] * dim;
    thresholds.push(maskRange(weights, mask, start, end, Math.round(sparsity * (end - start))));
    start = end;
  }
  return { mask, thresholds };
}

/** Share of each field's entries that the mask keeps. */
export function keptShareByField(
  mask: Uint8Array,
  dim: number,
  fieldRows: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(fieldRows.length);
  let start = 0;
  for (let f = 0; f < fieldRows.length; f++) {
    const end = start + fieldRows[f] * dim;
    let kept = 0;
    for (let i = start; i < end; i++) kept += mask[i];
    out[f] = end > start ? kept / (end - start) : 0;
    start = end;
  }
  return out;
}

/** Histogram of log10 |v| over the non-zero entries: `bins` equal bins between the extremes. */
export function logMagnitudeHistogram(
  weights: Float32Array,
  bins: number,
): { edges: Float32Array; counts: Float32Array } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < weights.length; i++) {
    const a = Math.abs(weights[i]);
    if (a === 0) continue;
    const l = Math.log10(a);
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  if (!Number.isFinite(lo)) return { edges: Float32Array.of(0, 1), counts: Float32Array.of(0) };
  if (hi - lo < 1e-6) hi = lo + 1e-6;
  const edges = new Float32Array(bins + 1);
  for (let b = 0; b <= bins; b++) edges[b] = lo + ((hi - lo) * b) / bins;
  const counts = new Float32Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < weights.length; i++) {
    const a = Math.abs(weights[i]);
    if (a === 0) continue;
    counts[Math.min(bins - 1, Math.floor((Math.log10(a) - lo) * scale))]++;
  }
  return { edges, counts };
}
