import { describe, expect, it } from 'vitest';
import { dominates, paretoFront, type ParetoPoint } from '../../../src/state/pareto';

const p = (id: number, size: number, auc: number): ParetoPoint => ({ id, size, auc });
const ids = (points: readonly ParetoPoint[]) => points.map((q) => q.id);

/** The definition, point by point: on the front when no other point dominates it. */
function bruteForceFront(points: ParetoPoint[]): ParetoPoint[] {
  const finite = points.filter((q) => Number.isFinite(q.auc) && Number.isFinite(q.size));
  return finite
    .filter((q) => !finite.some((o) => o !== q && dominates(o, q)))
    .sort((a, b) => a.size - b.size || b.auc - a.auc || a.id - b.id);
}

describe('dominates', () => {
  it('needs no worse on both and strictly better on one', () => {
    expect(dominates(p(1, 10, 0.8), p(2, 20, 0.7))).toBe(true);
    expect(dominates(p(1, 10, 0.8), p(2, 10, 0.7))).toBe(true);
    expect(dominates(p(1, 10, 0.8), p(2, 20, 0.8))).toBe(true);
    expect(dominates(p(1, 10, 0.8), p(2, 10, 0.8))).toBe(false);
    expect(dominates(p(1, 10, 0.7), p(2, 20, 0.8))).toBe(false);
    expect(dominates(p(2, 20, 0.7), p(1, 10, 0.8))).toBe(false);
  });
});

describe('paretoFront', () => {
  it('keeps a single point', () => {
    expect(paretoFront([p(7, 100, 0.75)])).toEqual({ front: [p(7, 100, 0.75)], excluded: 0 });
  });

  it('returns nothing for no points', () => {
    expect(paretoFront([])).toEqual({ front: [], excluded: 0 });
  });

  it('keeps a trade-off curve whole, sorted by size', () => {
    const points = [p(1, 1000, 0.8), p(2, 10, 0.7), p(3, 100, 0.75)];
    expect(ids(paretoFront(points).front)).toEqual([2, 3, 1]);
  });

  it('drops the dominated points, leaving one when it beats all others', () => {
    const points = [p(1, 500, 0.7), p(2, 100, 0.8), p(3, 200, 0.79), p(4, 100, 0.6)];
    expect(ids(paretoFront(points).front)).toEqual([2]);
  });

  it('drops a larger point with the same AUC, and a same-size point with a lower AUC', () => {
    const points = [p(1, 100, 0.75), p(2, 200, 0.75), p(3, 100, 0.74), p(4, 300, 0.8)];
    expect(ids(paretoFront(points).front)).toEqual([1, 4]);
  });

  it('keeps every copy of a duplicate point on the front', () => {
    const points = [p(3, 100, 0.75), p(1, 100, 0.75), p(2, 50, 0.7), p(4, 200, 0.74)];
    expect(ids(paretoFront(points).front)).toEqual([2, 1, 3]);
  });

  it('drops duplicates that another point dominates', () => {
    const points = [p(1, 100, 0.7), p(2, 100, 0.7), p(3, 90, 0.71)];
    expect(ids(paretoFront(points).front)).toEqual([3]);
  });

  it('leaves out and counts points with a non-finite AUC or size', () => {
    const points = [
      p(1, 100, Number.NaN),
      p(2, 200, 0.7),
      p(3, Number.NaN, 0.9),
      p(4, 50, Number.POSITIVE_INFINITY),
      p(5, 300, 0.72),
    ];
    const { front, excluded } = paretoFront(points);
    expect(excluded).toBe(3);
    expect(ids(front)).toEqual([2, 5]);
  });

  it('counts every point when none has an AUC', () => {
    expect(paretoFront([p(1, 1, Number.NaN), p(2, 2, Number.NaN)])).toEqual({
      front: [],
      excluded: 2,
    });
  });

  it('does not change its input', () => {
    const points = [p(1, 300, 0.8), p(2, 100, 0.7)];
    const copy = points.map((q) => ({ ...q }));
    paretoFront(points);
    expect(points).toEqual(copy);
  });

  it('agrees with the definition on many random sets with ties', () => {
    let seed = 2024;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(random() * 12);
      // Few distinct values, so that equal sizes and equal AUCs are common.
      const points = Array.from({ length: n }, (_, i) =>
        p(
          i,
          1 + Math.floor(random() * 5),
          random() < 0.1 ? Number.NaN : 0.6 + Math.floor(random() * 4) / 20,
        ),
      );
      const { front, excluded } = paretoFront(points);
      expect(ids(front)).toEqual(ids(bruteForceFront(points)));
      expect(excluded).toBe(points.filter((q) => Number.isNaN(q.auc)).length);
      // No point of the front dominates another, and every point off it is dominated by one on it.
      for (const a of front) for (const b of front) expect(dominates(a, b)).toBe(false);
      for (const q of points) {
        if (Number.isNaN(q.auc) || front.includes(q)) continue;
        expect(front.some((f) => dominates(f, q))).toBe(true);
      }
    }
  });
});
