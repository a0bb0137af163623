/**
 * The O(n^2) definition of ROC AUC, the reference the fast rank-based one is tested against:
 * P(score_pos > score_neg) + 0.5 * P(score_pos = score_neg) over all (positive, negative) pairs.
 * NaN when one class is missing.
 */
export function bruteForceAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] <= 0.5) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] > 0.5) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return pairs === 0 ? Number.NaN : wins / pairs;
}
