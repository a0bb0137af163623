import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQ_RUN, type SeqRunConfig } from '../../../workers/sequence/seqProtocol';
import {
  blockSpans,
  cutRanks,
  etaSeconds,
  formatDuration,
  frequencyCurve,
  paramBreakdown,
  ratioText,
  StepRate,
} from '../../../src/state/seqFigures';

const small: SeqRunConfig = {
  ...DEFAULT_SEQ_RUN,
  train: { ...DEFAULT_SEQ_RUN.train, embeddingDim: 16, dilations: [1, 2, 1, 2] },
  method: 'cprec',
  cprec: { cutPoints: [0.2, 0.5], factor: 4, sharing: 'cross-block' },
};

describe('paramBreakdown', () => {
  it('counts CpRec against the uncompressed NextItNet', () => {
    const { breakdown, error } = paramBreakdown(small, 200);
    expect(error).toBeNull();
    const b = breakdown!;
    expect(b.arch.cuts).toEqual([40, 100, 200]);
    expect(b.arch.blockDims).toEqual([16, 4, 1]);
    expect(b.params.total).toBe(b.params.input + b.params.middle + b.params.softmax);
    expect(b.params.total).toBeLessThan(b.uncompressed.total);
    expect(b.ratio).toBeCloseTo(b.uncompressed.total / b.params.total, 12);
    expect(b.ratio).toBeGreaterThan(1);
    expect(blockSpans(b.arch)).toEqual([
      { fromRank: 1, toRank: 40, dim: 16 },
      { fromRank: 41, toRank: 100, dim: 4 },
      { fromRank: 101, toRank: 200, dim: 1 },
    ]);
    expect(cutRanks(b.arch)).toEqual([40, 100]);
  });

  it('is the uncompressed model itself without CpRec', () => {
    const { breakdown } = paramBreakdown({ ...small, method: 'none' }, 200);
    expect(breakdown!.ratio).toBe(1);
    expect(cutRanks(breakdown!.arch)).toEqual([]);
    expect(ratioText(breakdown!.ratio)).toBe('1.0x (uncompressed)');
  });

  it("gives architectureOf's message for a cut outside the vocabulary", () => {
    const { breakdown, error } = paramBreakdown(
      { ...small, cprec: { ...small.cprec, cutPoints: [50, 500] } },
      200,
    );
    expect(breakdown).toBeNull();
    expect(error).toMatch(/Cut point 500 is outside the vocabulary/);
  });
});

describe('ratioText', () => {
  it('says how many times fewer', () => {
    expect(ratioText(3.42)).toBe('3.4x fewer parameters');
    expect(ratioText(12.6)).toBe('13x fewer parameters');
    expect(ratioText(0.5)).toBe('2.0x more parameters');
    expect(Number.parseFloat(ratioText(3.42))).toBeCloseTo(3.4);
  });
});

describe('frequencyCurve', () => {
  it('thins a long curve on a log rank axis, keeping both ends and leaving zeros out', () => {
    const freqs = Array.from({ length: 100_000 }, (_, i) =>
      i < 90_000 ? Math.ceil(1e6 / (i + 1)) : 0,
    );
    const curve = frequencyCurve(freqs, 200);
    expect(curve.length).toBeLessThanOrEqual(202);
    expect(curve.length).toBeGreaterThan(100);
    expect(curve[0]).toEqual({ rank: 1, count: 1e6 });
    expect(curve.at(-1)!.rank).toBe(90_000);
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i].rank).toBeGreaterThan(curve[i - 1].rank);
      expect(curve[i].count).toBeGreaterThan(0);
    }
  });

  it('keeps every rank of a short curve, and nothing of an empty one', () => {
    expect(frequencyCurve([5, 3, 1], 200)).toEqual([
      { rank: 1, count: 5 },
      { rank: 2, count: 3 },
      { rank: 3, count: 1 },
    ]);
    expect(frequencyCurve([0, 0], 200)).toEqual([]);
  });
});

describe('ETA', () => {
  it('measures steps per second over the window, and restarts after a pause', () => {
    const rate = new StepRate(10_000);
    expect(rate.perSecond()).toBeNull();
    rate.add(0, 0);
    rate.add(1000, 10);
    rate.add(2000, 20);
    expect(rate.perSecond()).toBeCloseTo(10);
    expect(etaSeconds(20, 120, rate.perSecond())).toBeCloseTo(10);
    // Samples older than the window are dropped: the pace follows the recent steps.
    rate.add(30_000, 50);
    rate.add(31_000, 60);
    expect(rate.perSecond()).toBeCloseTo(10);
    rate.reset();
    expect(rate.perSecond()).toBeNull();
    expect(etaSeconds(10, 100, null)).toBeNull();
  });

  it('formats durations', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(3725)).toBe('1 h 02 min');
    expect(formatDuration(null)).toBe('–');
  });
});
