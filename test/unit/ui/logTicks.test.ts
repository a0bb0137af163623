import { describe, expect, it } from 'vitest';
import { logTicks } from '../../../src/charts/niceTicks';

describe('logTicks', () => {
  it('uses 1, 2 and 5 per decade over up to two decades', () => {
    expect(logTicks(3000, 40_000)).toEqual([2000, 5000, 10_000, 20_000, 50_000]);
    expect(logTicks(0.3, 0.9)).toEqual([0.2, 0.5, 1]);
  });

  it('uses powers of ten over more decades', () => {
    expect(logTicks(150, 2_000_000)).toEqual([100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]);
  });

  it('covers the range with round, increasing ticks', () => {
    for (const [a, b] of [
      [1, 1],
      [7, 7],
      [12, 130],
      [999, 1001],
      [0.004, 3],
      [5, 5e9],
    ]) {
      const t = logTicks(a, b);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t[0]).toBeLessThanOrEqual(a);
      expect(t.at(-1)).toBeGreaterThanOrEqual(b);
      for (let k = 1; k < t.length; k++) expect(t[k]).toBeGreaterThan(t[k - 1]);
      for (const v of t) expect(Number(v.toPrecision(1))).toBe(v);
    }
  });

  it('gives nothing for a range a log axis cannot draw', () => {
    expect(logTicks(0, 100)).toEqual([]);
    expect(logTicks(-5, 100)).toEqual([]);
    expect(logTicks(Number.NaN, 100)).toEqual([]);
  });
});
