import { describe, expect, it } from 'vitest';
import { formatAxisTick, niceTicks } from '../../../src/charts/niceTicks';

describe('niceTicks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0, 100, 6)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1, 252, 6)).toEqual([0, 100, 200, 300]);
    expect(niceTicks(0.4312, 0.7021, 5)).toEqual([0.4, 0.5, 0.6, 0.7, 0.8]);
  });

  it('always includes min and max, for many random ranges', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const a = (random() - 0.3) * 10 ** (random() * 6 - 3);
      const b = a + random() * 10 ** (random() * 6 - 3);
      const t = niceTicks(a, b, 5);
      expect(t[0]).toBeLessThanOrEqual(a);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(b);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(12);
      for (let k = 1; k < t.length; k++) expect(t[k]).toBeGreaterThan(t[k - 1]);
    }
  });

  it('handles a flat series and bad input', () => {
    expect(niceTicks(0.5, 0.5, 5).length).toBeGreaterThanOrEqual(2);
    expect(niceTicks(Number.NaN, 1, 5)).toEqual([]);
  });
});

describe('formatAxisTick', () => {
  it('keeps large ticks short enough for the axis and distinct from each other', () => {
    // A histogram's counts: 180,000 did not fit the axis and showed as 80,000.
    expect([0, 45_000, 90_000, 135_000, 180_000].map(formatAxisTick)).toEqual([
      '0',
      '45k',
      '90k',
      '135k',
      '180k',
    ]);
    // Non-zero counts of nearly the same size: each tick reads differently.
    const close = [1_380_000, 1_385_000, 1_390_000].map(formatAxisTick);
    expect(close).toEqual(['1.38M', '1.385M', '1.39M']);
    expect(formatAxisTick(4000)).toBe('4,000');
    expect(formatAxisTick(-25_000)).toBe('-25k');
  });

  it('writes small values in exponent form and others with at most three decimals', () => {
    expect(formatAxisTick(0.0001)).toBe('1.0e-4');
    expect(formatAxisTick(0.125)).toBe('0.125');
    expect(formatAxisTick(0.22)).toBe('0.22');
    expect(formatAxisTick(12)).toBe('12');
  });
});
