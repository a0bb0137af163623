/**
 * Next-item ranking metrics over all items (MRR, HR and NDCG at 5 and 20), the most-popular-item
 * baseline, and the top-k of an adaptive softmax that expands only the tail blocks that can
 * reach it. tfjs-free: the worker, the scorer and the tests use the same code.
 */
import type { RankingMetrics } from './seqProtocol';
import type { SequenceDataset } from '../data/preprocess/sequenceDataset';

/**
 * Accumulates metrics from 0-based ranks (the number of items scored strictly above the target:
 * ties count for the target, as in the official evaluation's `argsort` position).
 */
export class RankingAccumulator {
  private sums = { mrr5: 0, mrr20: 0, hr5: 0, hr20: 0, ndcg5: 0, ndcg20: 0 };
  private n = 0;

  add(rank: number): void {
    this.n++;
    if (rank < 20) {
      const rr = 1 / (rank + 1);
      const dcg = 1 / Math.log2(rank + 2);
      this.sums.mrr20 += rr;
      this.sums.hr20 += 1;
      this.sums.ndcg20 += dcg;
      if (rank < 5) {
        this.sums.mrr5 += rr;
        this.sums.hr5 += 1;
        this.sums.ndcg5 += dcg;
      }
    }
  }

  result(): RankingMetrics {
    const n = Math.max(1, this.n);
    const s = this.sums;
    return {
      mrr5: s.mrr5 / n,
      mrr20: s.mrr20 / n,
      hr5: s.hr5 / n,
      hr20: s.hr20 / n,
      ndcg5: s.ndcg5 / n,
      ndcg20: s.ndcg20 / n,
      count: this.n,
    };
  }
}

/** The last item of sequence `row` (the target of its last position). */
export function lastItem(ds: SequenceDataset, row: number): number {
  return ds.items[row * ds.maxLen + ds.maxLen - 1];
}

/**
 * The most-popular-item baseline: every held-out sequence gets the same ranking, items by their
 * frequency in the training sequences (ties by id). The target's rank is its position there.
 */
export function popularityBaseline(
  ds: SequenceDataset,
  train: Int32Array,
  heldOut: Int32Array,
): RankingMetrics {
  const counts = new Float64Array(ds.numItems + 1);
  for (const row of train) {
    const base = row * ds.maxLen;
    for (let t = 0; t < ds.maxLen; t++) counts[ds.items[base + t]]++;
  }
  counts[0] = -1; // padding is never recommended
  const order = Array.from({ length: ds.numItems }, (_, i) => i + 1).sort(
    (a, b) => counts[b] - counts[a] || a - b,
  );
  const rankOf = new Int32Array(ds.numItems + 1);
  order.forEach((item, r) => (rankOf[item] = r));
  const acc = new RankingAccumulator();
  for (const row of heldOut) acc.add(rankOf[lastItem(ds, row)]);
  return acc.result();
}

/** The k largest entries of `scores` (index and value), best first; ties by lower index. */
export function topK(
  scores: ArrayLike<number>,
  k: number,
  offset = 0,
): { ids: number[]; scores: number[] } {
  const ids: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (ids.length === k && !(s > vals[k - 1])) continue;
    let pos = ids.length === k ? k - 1 : ids.length;
    if (ids.length < k) {
      ids.push(0);
      vals.push(0);
    }
    while (pos > 0 && vals[pos - 1] < s) {
      ids[pos] = ids[pos - 1];
      vals[pos] = vals[pos - 1];
      pos--;
    }
    ids[pos] = i + offset;
    vals[pos] = s;
  }
  return { ids, scores: vals };
}

/**
 * Top-k of an adaptive softmax's full distribution for one position, expanding only the tail
 * blocks that can reach it. `headLogProbs` holds the head items' log-probabilities (items
 * 1..cuts[0]) followed by one cluster log-probability per tail block. A tail item's probability
 * is its cluster's times p_k(item) <= its cluster's, so a block whose cluster falls below the
 * k-th best probability found so far cannot place an item in the top-k: the result equals the
 * full distribution's top-k (ties aside). `expand(b)` returns block b's within-block
 * log-probabilities (b >= 1). Items are 1-based ids (frequency ranks).
 */
export function adaptiveTopK(
  headLogProbs: ArrayLike<number>,
  cuts: readonly number[],
  k: number,
  expand: (block: number) => ArrayLike<number>,
): { ids: number[]; logProbs: number[]; expanded: number } {
  const c1 = cuts[0];
  const head = topK(Array.prototype.slice.call(headLogProbs, 0, c1) as number[], k, 1);
  let ids = head.ids;
  let vals = head.scores;
  // Blocks in order of their cluster's probability, best first.
  const blocks = Array.from({ length: cuts.length - 1 }, (_, i) => i + 1).sort(
    (a, b) => headLogProbs[c1 + b - 1] - headLogProbs[c1 + a - 1],
  );
  let expanded = 0;
  for (const b of blocks) {
    const cluster = headLogProbs[c1 + b - 1];
    if (ids.length === k && cluster < vals[k - 1]) break;
    expanded++;
    const inner = expand(b);
    const scored = Array.from(inner, (v) => v + cluster);
    const tail = topK(scored, k, cuts[b - 1] + 1);
    const merged = [
      ...ids.map((id, i) => [id, vals[i]] as const),
      ...tail.ids.map((id, i) => [id, tail.scores[i]] as const),
    ];
    merged.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    ids = merged.slice(0, k).map((m) => m[0]);
    vals = merged.slice(0, k).map((m) => m[1]);
  }
  return { ids, logProbs: vals, expanded };
}
