import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../../src/charts/niceTicks';

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
