/**
 * UMEC's Z-step projection against brute force (every subset of groups and neurons) on small
 * random layouts: exact for FLOPs (both modes, 0-3 hidden layers, mixed group sizes), exact for
 * params when the subset enumeration is used, feasible (gap reported) for the greedy params
 * search; fixed groups, deterministic ties, the below-minimum error, and a DLRM-sized check
 * against an independent count enumeration.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../rng';
import {
  keptScore,
  projectBudget,
  projectStructure,
  type ProjectionOptions,
  type UnitScores,
} from './projection';
import {
  budgetRatio,
  minimumBudgetRatio,
  minimumRatio,
  structureRatio,
  type BudgetKind,
  type KeptStructure,
  type PrunableLayout,
  type PruneMode,
  type ResourceKind,
} from './resources';

/** Every non-empty subset mask of n units, as Uint8Arrays. */
function subsets(n: number, allowEmpty = false): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = allowEmpty ? 0 : 1; m < 1 << n; m++) {
    out.push(Uint8Array.from({ length: n }, (_, i) => (m >> i) & 1));
  }
  return out;
}

/** The best kept score over every feasible structure (-Infinity if none). */
function bruteForce(
  layout: PrunableLayout,
  scores: UnitScores,
  kind: BudgetKind,
  budget: number,
  mode: PruneMode,
): number {
  return bruteForceStructures(layout, mode, (s) =>
    budgetRatio(layout, kind, s) <= budget ? keptScore(s, scores) : -Infinity,
  );
}

/** The largest `value` over every structure (-Infinity if none). */
function bruteForceStructures(
  layout: PrunableLayout,
  mode: PruneMode,
  value: (s: KeptStructure) => number,
): number {
  const hidden = layout.layerSizes.slice(0, -1);
  const groupSets = subsets(layout.groupSizes.length).filter((m) =>
    layout.fixedGroups.every((f, g) => !f || m[g] === 1),
  );
  const neuronSets = hidden.map((n) =>
    mode === 'inputs' ? [new Uint8Array(n).fill(1)] : subsets(n),
  );
  let best = -Infinity;
  const walk = (l: number, chosen: Uint8Array[]): void => {
    if (l === hidden.length) {
      for (const keepGroups of groupSets) {
        best = Math.max(best, value({ keepGroups, keepNeurons: chosen }));
      }
      return;
    }
    for (const mask of neuronSets[l]) walk(l + 1, [...chosen, mask]);
  };
  walk(0, []);
  return best;
}

function checkValid(
  layout: PrunableLayout,
  s: KeptStructure,
  kind: ResourceKind,
  budget: number,
  mode: PruneMode,
): void {
  expect(structureRatio(layout, kind, s)).toBeLessThanOrEqual(budget);
  expect(s.keepGroups.some((k) => k === 1)).toBe(true);
  layout.fixedGroups.forEach((f, g) => {
    if (f) expect(s.keepGroups[g]).toBe(1);
  });
  expect(s.keepNeurons.length).toBe(layout.layerSizes.length - 1);
  s.keepNeurons.forEach((mask, l) => {
    expect(mask.length).toBe(layout.layerSizes[l]);
    if (mode === 'inputs') expect(mask.every((k) => k === 1)).toBe(true);
    else expect(mask.some((k) => k === 1)).toBe(true);
  });
}

interface Case {
  layout: PrunableLayout;
  scores: UnitScores;
}

function randomCase(rng: Rng, hidden: number[], sizes: number[], withParams: boolean): Case {
  const m = 4 + rng.int(2);
  const groupSizes = Array.from({ length: m }, () => sizes[rng.int(sizes.length)]);
  const fixedGroups = Array.from({ length: m }, () => rng.next() < 0.2);
  const groupParams = Array.from({ length: m }, () => (withParams ? rng.int(60) : 0));
  const layerSizes = [...hidden, 1 + rng.int(2)];
  // Scores with occasional zeros and repeated values (ties).
  const draw = (): number => {
    const r = rng.next();
    return r < 0.15 ? 0 : r < 0.3 ? 1 : rng.uniform(0, 3);
  };
  return {
    layout: { groupSizes, groupParams, fixedGroups, layerSizes },
    scores: {
      groups: Array.from({ length: m }, draw),
      neurons: hidden.map((n) => Array.from({ length: n }, draw)),
    },
  };
}

/** Budgets from the minimum to dense, plus the minimum itself. */
function budgets(c: Case, kind: ResourceKind, mode: PruneMode, rng: Rng): number[] {
  const min = minimumRatio(c.layout, kind, mode);
  return [
    min,
    ...[0.05, 0.2, 0.4, 0.6, 0.8].map((f) => min + (1 - min) * (f + 0.1 * rng.next())),
    1,
  ];
}

const HIDDEN_SHAPES = [[3], [4], [3, 4], [4, 3], [2, 3, 2]];

describe('projectStructure: FLOPs is exact', () => {
  for (const mode of ['joint', 'inputs'] as const) {
    for (const hidden of HIDDEN_SHAPES) {
      it(`${mode}, hidden [${hidden.join(', ')}], group sizes 2/3`, () => {
        const rng = new Rng(1000 + hidden.length * 10 + hidden[0] + (mode === 'joint' ? 0 : 500));
        for (let trial = 0; trial < 6; trial++) {
          const c = randomCase(rng, hidden, [2, 3], false);
          for (const b of budgets(c, 'flops', mode, rng)) {
            const s = projectStructure(c.layout, c.scores, 'flops', b, mode);
            checkValid(c.layout, s, 'flops', b, mode);
            const best = bruteForce(c.layout, c.scores, 'flops', b, mode);
            expect(keptScore(s, c.scores)).toBeCloseTo(best, 9);
          }
        }
      });
    }
  }

  it('mixed group sizes 1/2/3/5 and a single Linear (no hidden layer)', () => {
    const rng = new Rng(77);
    for (const hidden of [[], [3], [3, 3]]) {
      for (const mode of ['joint', 'inputs'] as const) {
        for (let trial = 0; trial < 4; trial++) {
          const c = randomCase(rng, hidden, [1, 2, 3, 5], false);
          for (const b of budgets(c, 'flops', mode, rng)) {
            const s = projectStructure(c.layout, c.scores, 'flops', b, mode);
            checkValid(c.layout, s, 'flops', b, mode);
            expect(keptScore(s, c.scores)).toBeCloseTo(
              bruteForce(c.layout, c.scores, 'flops', b, mode),
              9,
            );
          }
        }
      }
    }
  });
});

describe('projectStructure: params', () => {
  it('exact with the subset enumeration (few groups), both modes', () => {
    const rng = new Rng(2024);
    for (const hidden of HIDDEN_SHAPES) {
      for (const mode of ['joint', 'inputs'] as const) {
        for (let trial = 0; trial < 4; trial++) {
          const c = randomCase(rng, hidden, [2, 3], true);
          for (const b of budgets(c, 'params', mode, rng)) {
            const s = projectStructure(c.layout, c.scores, 'params', b, mode);
            checkValid(c.layout, s, 'params', b, mode);
            expect(keptScore(s, c.scores)).toBeCloseTo(
              bruteForce(c.layout, c.scores, 'params', b, mode),
              9,
            );
          }
        }
      }
    }
  });

  it('greedy + local search (forced): always feasible; gap to brute force reported', () => {
    const greedy: ProjectionOptions = { paramsExactMaxGroups: 0 };
    const rng = new Rng(99);
    let runs = 0;
    let optimal = 0;
    let worstGap = 0;
    let sumGap = 0;
    for (const hidden of HIDDEN_SHAPES) {
      for (const mode of ['joint', 'inputs'] as const) {
        for (let trial = 0; trial < 4; trial++) {
          const c = randomCase(rng, hidden, [2, 3], true);
          for (const b of budgets(c, 'params', mode, rng)) {
            const s = projectStructure(c.layout, c.scores, 'params', b, mode, greedy);
            checkValid(c.layout, s, 'params', b, mode);
            const best = bruteForce(c.layout, c.scores, 'params', b, mode);
            const got = keptScore(s, c.scores);
            expect(got).toBeLessThanOrEqual(best + 1e-9);
            const gap = best > 0 ? (best - got) / best : 0;
            runs++;
            if (gap < 1e-12) optimal++;
            worstGap = Math.max(worstGap, gap);
            sumGap += gap;
          }
        }
      }
    }
    console.info(
      `UMEC greedy params projection vs brute force: ${optimal}/${runs} optimal, ` +
        `mean gap ${((100 * sumGap) / runs).toFixed(3)}%, worst ${(100 * worstGap).toFixed(2)}%`,
    );
    expect(optimal / runs).toBeGreaterThan(0.8);
  });
});

describe('projectBudget: FLOPs and parameters both within the budget', () => {
  it('the smallest budget is the brute-force smallest larger ratio', () => {
    const rng = new Rng(5);
    for (const hidden of HIDDEN_SHAPES) {
      for (const mode of ['joint', 'inputs'] as const) {
        const c = randomCase(rng, hidden, [1, 2, 3], true);
        const smallest = -bruteForceStructures(
          c.layout,
          mode,
          (s) => -budgetRatio(c.layout, 'both', s),
        );
        expect(minimumBudgetRatio(c.layout, 'both', mode)).toBeCloseTo(smallest, 12);
      }
    }
  });

  it('always feasible for both resources; never above brute force; gap reported', () => {
    const rng = new Rng(7);
    let runs = 0;
    let optimal = 0;
    let worstGap = 0;
    for (const hidden of HIDDEN_SHAPES) {
      for (const mode of ['joint', 'inputs'] as const) {
        for (let trial = 0; trial < 4; trial++) {
          const c = randomCase(rng, hidden, [1, 2, 3], true);
          const min = minimumBudgetRatio(c.layout, 'both', mode);
          for (const f of [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1]) {
            const b = min + (1 - min) * f;
            const s = projectBudget(c.layout, c.scores, 'both', b, mode);
            checkValid(c.layout, s, 'flops', b, mode);
            checkValid(c.layout, s, 'params', b, mode);
            const best = bruteForce(c.layout, c.scores, 'both', b, mode);
            const got = keptScore(s, c.scores);
            expect(got).toBeLessThanOrEqual(best + 1e-9);
            const gap = best > 0 ? (best - got) / best : 0;
            runs++;
            if (gap < 1e-12) optimal++;
            worstGap = Math.max(worstGap, gap);
          }
        }
      }
    }
    console.info(
      `UMEC 'both' projection vs brute force: ${optimal}/${runs} optimal, worst gap ${(100 * worstGap).toFixed(2)}%`,
    );
    expect(optimal / runs).toBeGreaterThan(0.7);
  });

  it('one resource alone is projectStructure', () => {
    const c = randomCase(new Rng(3), [3, 4], [2], true);
    for (const kind of ['flops', 'params'] as const) {
      expect(projectBudget(c.layout, c.scores, kind, 0.5, 'joint')).toEqual(
        projectStructure(c.layout, c.scores, kind, 0.5, 'joint'),
      );
    }
  });

  it('names the smallest model when the budget is below it', () => {
    const c = randomCase(new Rng(4), [3], [2], true);
    const min = minimumBudgetRatio(c.layout, 'both', 'joint');
    expect(() => projectBudget(c.layout, c.scores, 'both', min * 0.99, 'joint')).toThrow(
      /below the smallest model that can exist \(FLOPs and parameter ratio/,
    );
  });
});

describe('projectStructure: constraints and errors', () => {
  const layout: PrunableLayout = {
    groupSizes: [2, 2, 2, 2],
    groupParams: [0, 0, 0, 0],
    fixedGroups: [false, false, true, false],
    layerSizes: [3, 1],
  };

  it('keeps fixed groups even when their score is zero', () => {
    const scores: UnitScores = { groups: [5, 4, 0, 3], neurons: [[1, 1, 1]] };
    const min = minimumRatio(layout, 'flops', 'joint');
    for (const b of [min, 0.3, 0.6, 1]) {
      const s = projectStructure(layout, scores, 'flops', b, 'joint');
      expect(s.keepGroups[2]).toBe(1);
      checkValid(layout, s, 'flops', b, 'joint');
    }
    // At the minimum, only the fixed group and one neuron survive.
    const s = projectStructure(layout, scores, 'flops', min, 'joint');
    expect(Array.from(s.keepGroups)).toEqual([0, 0, 1, 0]);
    expect(Array.from(s.keepNeurons[0])).toEqual([1, 0, 0]);
  });

  it('breaks ties deterministically, lower index kept first', () => {
    const free: PrunableLayout = { ...layout, fixedGroups: [false, false, false, false] };
    const scores: UnitScores = { groups: [1, 1, 1, 1], neurons: [[2, 2, 2]] };
    // Inputs only: each group costs 2*2*3 = 12 FLOPs; 2 groups + the rest = 24 + 3 + 7 = 34.
    const b = 34 / (2 * 8 * 3 + 3 + 2 * 3 + 1);
    const s = projectStructure(free, scores, 'flops', b, 'inputs');
    expect(Array.from(s.keepGroups)).toEqual([1, 1, 0, 0]);
    const again = projectStructure(free, scores, 'flops', b, 'inputs');
    expect(again).toEqual(s);
    // Joint: 2 groups and 1 neuron fit (2*4*1 + 1 + 2*1 + 1 = 12 FLOPs, ratio 12/58).
    const j = projectStructure(free, scores, 'flops', 12 / 58, 'joint');
    expect(Array.from(j.keepNeurons[0])).toEqual([1, 0, 0]);
    expect(Array.from(j.keepGroups)).toEqual([1, 1, 0, 0]);
  });

  it('names the smallest model when the budget is below it', () => {
    const scores: UnitScores = { groups: [1, 1, 1, 1], neurons: [[1, 1, 1]] };
    const min = minimumRatio(layout, 'flops', 'joint');
    expect(() => projectStructure(layout, scores, 'flops', 0.001, 'joint')).toThrow(
      /^budget 0\.001 is below the smallest model that can exist \(FLOPs ratio 0\.\d+: the 1 fixed group and 1 neuron per hidden layer\)$/,
    );
    expect(() => projectStructure(layout, scores, 'flops', min * 0.999, 'joint')).toThrow(
      /below the smallest model/,
    );
    expect(() => projectStructure(layout, scores, 'flops', min, 'joint')).not.toThrow();
    expect(() => projectStructure(layout, scores, 'params', 0.1, 'inputs')).toThrow(
      /params ratio 0\.\d+: the 1 fixed group with every hidden neuron kept/,
    );
  });

  it('rejects malformed scores', () => {
    expect(() =>
      projectStructure(layout, { groups: [1, 1, 1], neurons: [[1, 1, 1]] }, 'flops', 1, 'joint'),
    ).toThrow(/groups has 3 scores, expected 4/);
    expect(() =>
      projectStructure(
        layout,
        { groups: [1, 1, 1, NaN], neurons: [[1, 1, 1]] },
        'flops',
        1,
        'joint',
      ),
    ).toThrow(/finite and >= 0/);
  });
});

describe('projectStructure: DLRM-sized layout', () => {
  /** 27 groups of 16 (group 0: the fixed dense block), [512, 256, 1]. */
  const layout: PrunableLayout = {
    groupSizes: new Array<number>(27).fill(16),
    groupParams: [0, ...Array.from({ length: 26 }, (_, f) => 16 * (50 + ((f * 37) % 200)))],
    fixedGroups: [true, ...new Array<boolean>(26).fill(false)],
    layerSizes: [512, 256, 1],
  };
  const rng = new Rng(5);
  const groupScores = Array.from({ length: 27 }, () => rng.uniform(0, 10) ** 2);
  const neuronScores = [
    Array.from({ length: 512 }, () => rng.uniform(0, 1) ** 3),
    Array.from({ length: 256 }, () => rng.uniform(0, 1) ** 3),
  ];
  const scores: UnitScores = { groups: groupScores, neurons: neuronScores };

  /** Independent optimum: every (groups kept, k1, k2) count with top-k prefix sums. */
  function countEnumeration(budget: number): number {
    const prefix = (v: number[]): number[] => {
      const sorted = v.slice().sort((x, y) => y - x);
      const p = [0];
      for (const x of sorted) p.push(p[p.length - 1] + x);
      return p;
    };
    const pg = prefix(groupScores.slice(1));
    const p1 = prefix(neuronScores[0]);
    const p2 = prefix(neuronScores[1]);
    let best = -Infinity;
    for (let g = 0; g <= 26; g++) {
      const width = 16 * (g + 1);
      for (let k1 = 1; k1 <= 512; k1++) {
        for (let k2 = 1; k2 <= 256; k2++) {
          const flops = 2 * width * k1 + k1 + 2 * k1 * k2 + k2 + 2 * k2 + 1;
          if (flops / 705_793 > budget) break;
          best = Math.max(best, groupScores[0] + pg[g] + p1[k1] + p2[k2]);
        }
      }
    }
    return best;
  }

  it('FLOPs joint matches an independent count enumeration', () => {
    for (const b of [0.05, 0.18, 0.5]) {
      const s = projectStructure(layout, scores, 'flops', b, 'joint');
      checkValid(layout, s, 'flops', b, 'joint');
      expect(keptScore(s, scores)).toBeCloseTo(countEnumeration(b), 6);
    }
  });

  it('FLOPs inputs keeps the best groups that fit; params joint is feasible', () => {
    const s = projectStructure(layout, scores, 'flops', 0.83, 'inputs');
    checkValid(layout, s, 'flops', 0.83, 'inputs');
    // (0.83 * 705,793 - 279,809) / 16,384 = 18.67: the fixed group and the 18 best others.
    const kept = Array.from(s.keepGroups).reduce((x, y) => x + y, 0);
    expect(kept).toBe(19);
    const ranked = groupScores
      .slice(1)
      .map((v, i) => ({ v, g: i + 1 }))
      .sort((x, y) => y.v - x.v);
    for (const { g } of ranked.slice(0, 18)) expect(s.keepGroups[g]).toBe(1);
    for (const b of [0.2, 0.5, 0.8]) {
      const p = projectStructure(layout, scores, 'params', b, 'joint');
      checkValid(layout, p, 'params', b, 'joint');
    }
  });
});
