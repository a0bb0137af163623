import { describe, expect, it } from 'vitest';
import { calibrationRatio, meanPerBatchAuc, rocAuc } from '../../../workers/metrics/classification';
import { Rng } from '../../../workers/rng';
import { bruteForceAuc as pairwiseAuc } from '../kit/bruteForceAuc';

describe('rocAuc (exact, global)', () => {
  it('equals the brute-force pairwise count on random data with many ties', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + rng.int(400);
      const levels = 2 + rng.int(8); // few distinct scores: many ties
      const scores = new Float32Array(n);
      const labels = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        scores[i] = rng.int(levels) / levels;
        labels[i] = rng.next() < 0.3 + 0.4 * scores[i] ? 1 : 0;
      }
      expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 10);
    }
  });

  it('is NaN with one class', () => {
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });
});

describe('meanPerBatchAuc (the official PEP figure)', () => {
  it('averages per-batch AUCs, and differs from the global AUC', () => {
    // Batch 1: scores rank perfectly (AUC 1). Batch 2: all tied (AUC 0.5). Batch 3 (short): inverted (AUC 0).
    const scores = [0.9, 0.8, 0.2, 0.1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.7];
    const labels = [1, 1, 0, 0, 1, 0, 1, 0, 1, 0];
    const r = meanPerBatchAuc(scores, labels, 4);
    expect(Array.from(r.batchAucs)).toEqual([1, 0.5, 0]);
    expect(r.meanAuc).toBeCloseTo(0.5, 12);
    expect(r.skippedBatches).toBe(0);
    expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    expect(rocAuc(scores, labels)).not.toBeCloseTo(0.5, 3);
  });

  it('skips batches with one class (sklearn would raise) and reports them', () => {
    const scores = [0.1, 0.2, 0.3, 0.9, 0.4, 0.6];
    const labels = [0, 0, 0, 1, 1, 0];
    const r = meanPerBatchAuc(scores, labels, 3);
    expect(r.batchAucs[0]).toBeNaN();
    expect(r.batchAucs[1]).toBe(0.5);
    expect(r.meanAuc).toBe(0.5);
    expect(r.skippedBatches).toBe(1);
  });

  it('uses batches of 1024 by default', () => {
    const rng = new Rng(3);
    const n = 2500;
    const scores = Array.from({ length: n }, () => rng.next());
    const labels = Array.from({ length: n }, (_, i) => (rng.next() < scores[i] ? 1 : 0));
    const r = meanPerBatchAuc(scores, labels);
    expect(r.batchAucs.length).toBe(3);
    const byHand = [0, 1024, 2048].map((s) =>
      pairwiseAuc(scores.slice(s, s + 1024), labels.slice(s, s + 1024)),
    );
    expect(r.meanAuc).toBeCloseTo((byHand[0] + byHand[1] + byHand[2]) / 3, 10);
  });
});

describe('calibrationRatio', () => {
  it('is mean prediction over label mean', () => {
    expect(calibrationRatio([0.2, 0.4, 0.6, 0.2], [0, 1, 0, 0])).toBeCloseTo(0.35 / 0.25, 12);
    expect(calibrationRatio([0.5, 0.5], [0, 0])).toBeNaN();
  });
});
