/**
 * The Pareto front of finished runs on model size against AUC: a smaller model and a higher AUC
 * are better. Pure (no React, no tfjs), so the chart and the unit tests share it.
 */

/** One run on the size-quality plane. */
export interface ParetoPoint {
  id: number;
  /** Model size on the chosen axis (parameters, bytes or FLOPs per example). */
  size: number;
  auc: number;
}

export interface ParetoResult<P extends ParetoPoint> {
  /** The points no other point dominates, by size ascending (then AUC descending, then id). */
  front: P[];
  /** Points left out because their AUC or size is not a finite number (e.g. no test split). */
  excluded: number;
}

/**
 * Whether `a` dominates `b`: `a` is no larger and no worse, and strictly better in one of the two.
 * Two identical points do not dominate each other.
 */
export function dominates(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.size <= b.size && a.auc >= b.auc && (a.size < b.size || a.auc > b.auc);
}

const bySizeThenAuc = (a: ParetoPoint, b: ParetoPoint) =>
  a.size - b.size || b.auc - a.auc || a.id - b.id;

/**
 * The Pareto front of `points`: every point that no other point dominates (see `dominates`),
 * sorted by size. Duplicates (same size and AUC) are all on the front when one is. Points with a
 * non-finite AUC or size are left out and counted in `excluded`.
 */
export function paretoFront<P extends ParetoPoint>(points: readonly P[]): ParetoResult<P> {
  const finite = points.filter((p) => Number.isFinite(p.auc) && Number.isFinite(p.size));
  const sorted = [...finite].sort(bySizeThenAuc);
  const front: P[] = [];
  // Best AUC among points strictly smaller than the current size group.
  let bestSmaller = -Infinity;
  let i = 0;
  while (i < sorted.length) {
    // One group of equal sizes: sorted by AUC descending, so its first AUC is its best.
    let j = i;
    while (j < sorted.length && sorted[j].size === sorted[i].size) j++;
    const groupBest = sorted[i].auc;
    for (let k = i; k < j; k++) {
      const p = sorted[k];
      // A smaller point with an AUC at least as high, or a same-size point with a higher AUC.
      const dominated = bestSmaller >= p.auc || groupBest > p.auc;
      if (!dominated) front.push(p);
    }
    bestSmaller = Math.max(bestSmaller, groupBest);
    i = j;
  }
  return { front, excluded: points.length - finite.length };
}
