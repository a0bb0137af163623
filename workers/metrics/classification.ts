/**
 * Exact classification metrics on host arrays (tfjs-free, so they are the same on every backend).
 */

/**
 * Global ROC AUC, exact: the Mann-Whitney statistic with tied scores given the average rank.
 * Returns NaN when only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${n} scores but ${labels.length} labels`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scores[order[j]] === scores[order[i]]) j++;
    // Ranks i+1 .. j share the average rank.
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]] > 0.5) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

const PROB_EPS = 1e-7;

/** Mean binary cross-entropy of probabilities, clipped to [1e-7, 1 - 1e-7]. */
export function logloss(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = probs.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - PROB_EPS, Math.max(PROB_EPS, probs[i]));
    sum -= labels[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

/** Fraction of rows where (p >= 0.5) matches the label. */
export function accuracy(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = probs.length;
  if (n === 0) return Number.NaN;
  let hits = 0;
  for (let i = 0; i < n; i++) if (probs[i] >= 0.5 === labels[i] > 0.5) hits++;
  return hits / n;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export interface PerBatchAucResult {
  /** Mean of the AUCs of the batches that have both classes; NaN when none has. */
  meanAuc: number;
  /** AUC of each consecutive batch, NaN for a batch with one class only. */
  batchAucs: Float64Array;
  /** Batches left out of the mean because they hold one class only. */
  skippedBatches: number;
}

/**
 * The official PEP test figure: the MEAN of per-batch ROC AUCs over consecutive batches (1024 in
 * the PEP scripts; the last batch may be shorter, as a DataLoader without drop_last gives it).
 * sklearn's roc_auc_score raises on a batch with one class, which would abort the official
 * evaluation; here such a batch is skipped (left out of the mean) and counted in `skippedBatches`.
 */
export function meanPerBatchAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  batchSize = 1024,
): PerBatchAucResult {
  const n = scores.length;
  if (labels.length !== n)
    throw new Error(`meanPerBatchAuc: ${n} scores but ${labels.length} labels`);
  if (!(batchSize >= 1))
    throw new Error(`meanPerBatchAuc: batch size must be >= 1, got ${batchSize}`);
  const numBatches = Math.ceil(n / batchSize);
  const batchAucs = new Float64Array(numBatches);
  const toArray = (a: ArrayLike<number>, s: number, e: number) =>
    Array.prototype.slice.call(a, s, e) as number[];
  let sum = 0;
  let used = 0;
  for (let b = 0; b < numBatches; b++) {
    const start = b * batchSize;
    const end = Math.min(n, start + batchSize);
    const auc = rocAuc(toArray(scores, start, end), toArray(labels, start, end));
    batchAucs[b] = auc;
    if (!Number.isNaN(auc)) {
      sum += auc;
      used++;
    }
  }
  return {
    meanAuc: used > 0 ? sum / used : Number.NaN,
    batchAucs,
    skippedBatches: numBatches - used,
  };
}

/**
 * Calibration ratio: mean predicted probability / observed click rate (1 = calibrated,
 * > 1 = over-predicts clicks). NaN when there are no rows or no positive label.
 */
export function calibrationRatio(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = probs.length;
  if (labels.length !== n)
    throw new Error(`calibrationRatio: ${n} probs but ${labels.length} labels`);
  let sumProb = 0;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    sumProb += probs[i];
    if (labels[i] > 0.5) positives++;
  }
  if (n === 0 || positives === 0) return Number.NaN;
  return sumProb / positives;
}
