import { describe, expect, it } from 'vitest';
import { accuracy, logloss, rocAuc } from '../../../workers/metrics/classification';
import { Rng } from '../../../workers/rng';
import { bruteForceAuc } from '../kit/bruteForceAuc';

describe('rocAuc', () => {
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    const labels = [0, 0, 0, 1, 1];
    expect(rocAuc([0.1, 0.2, 0.3, 0.7, 0.9], labels)).toBe(1);
    expect(rocAuc([0.9, 0.7, 0.6, 0.2, 0.1], labels)).toBe(0);
  });

  it('does not depend on the order of the rows', () => {
    expect(rocAuc([0.9, 0.1, 0.7, 0.2, 0.3], [1, 0, 1, 0, 0])).toBe(1);
  });

  it('is 0.5 when every score is tied', () => {
    expect(rocAuc([0.3, 0.3, 0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0, 0, 0])).toBe(0.5);
  });

  it('matches a small hand-computed case', () => {
    // Pairs (pos, neg): 0.35>0.1 win, 0.35<0.4 loss, 0.8>0.1 win, 0.8>0.4 win -> 3/4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });

  it('counts a tie between a positive and a negative as half a win', () => {
    // Pairs: (0.5 vs 0.5) tie = 0.5, (0.5 vs 0.2) win, (0.9 vs 0.5) win, (0.9 vs 0.2) win -> 3.5/4.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
  });

  it('is NaN when only one class is present', () => {
    expect(rocAuc([0.1, 0.5, 0.9], [1, 1, 1])).toBeNaN();
    expect(rocAuc([0.1, 0.5, 0.9], [0, 0, 0])).toBeNaN();
    expect(rocAuc([], [])).toBeNaN();
  });

  it('throws when scores and labels differ in length', () => {
    expect(() => rocAuc([0.1, 0.2], [1])).toThrow();
  });

  it('equals the brute-force pairwise AUC on random data with many ties', () => {
    const rng = new Rng(12345);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + rng.int(250);
      const levels = 2 + rng.int(15); // few distinct scores -> many ties
      const scores = new Float32Array(n);
      const labels = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        scores[i] = rng.int(levels) / levels;
        // Labels correlated with the score, so the AUC is not trivially 0.5.
        labels[i] = rng.next() < 0.2 + 0.6 * scores[i] ? 1 : 0;
      }
      labels[0] = 1;
      labels[1] = 0;
      expect(rocAuc(scores, labels)).toBeCloseTo(bruteForceAuc(scores, labels), 10);
    }
  });
});

describe('logloss', () => {
  it('matches hand-computed values', () => {
    // -(ln 0.8 + ln(1 - 0.4)) / 2
    expect(logloss([0.8, 0.4], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    expect(logloss([0.5, 0.5, 0.5], [1, 0, 1])).toBeCloseTo(Math.log(2), 12);
  });

  it('clips probabilities of 0 and 1 so a confident mistake is finite but large', () => {
    const v = logloss([0, 1], [1, 0]);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(-Math.log(1e-7), 4);
    expect(logloss([1, 0], [1, 0])).toBeLessThan(1e-6);
  });

  it('is NaN on empty input', () => {
    expect(logloss([], [])).toBeNaN();
  });
});

describe('accuracy', () => {
  it('thresholds at 0.5 (inclusive) and counts matches', () => {
    expect(accuracy([0.9, 0.2, 0.5, 0.49], [1, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(accuracy([0.5], [0])).toBe(0);
    expect(accuracy([0.1, 0.9], [1, 0])).toBe(0);
  });

  it('is NaN on empty input', () => {
    expect(accuracy([], [])).toBeNaN();
  });
});
