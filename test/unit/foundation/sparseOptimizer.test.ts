import { describe, expect, it } from 'vitest';
import { BatchPlanner, type BatchPlan } from '../../../workers/embedding/batchPlan';
import {
  HostEmbeddingTable,
  type SparseOptimizerConfig,
} from '../../../workers/embedding/hostEmbeddingTable';
import { Rng } from '../../../workers/rng';

const VOCAB = 30;
const DIM = 3;

function adamConfig(mode: 'lazy' | 'exact', weightDecay: number): SparseOptimizerConfig {
  return {
    kind: 'adam',
    mode,
    learningRate: 0.05,
    weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  };
}

function makeTable(cfg: SparseOptimizerConfig, seed = 1): HostEmbeddingTable {
  return new HostEmbeddingTable('t', VOCAB, DIM, cfg, { kind: 'normal', std: 1 }, new Rng(seed));
}

/** A batch: ids with duplicates drawn from `pool`, and one gradient row per id occurrence. */
interface Batch {
  ids: Int32Array;
  occurrenceGrads: Float64Array;
}

function makeBatch(pool: number[], n: number, rng: Rng): Batch {
  const ids = Int32Array.from({ length: n }, () => pool[rng.int(pool.length)]);
  const occurrenceGrads = Float64Array.from({ length: n * DIM }, () => rng.normal());
  return { ids, occurrenceGrads };
}

/** What the gather's backward hands the table: occurrence grads summed per row of the plan. */
function blockGradient(plan: BatchPlan, batch: Batch): Float32Array {
  const g = new Float32Array(plan.uniqueRows.length * DIM);
  for (let i = 0; i < batch.ids.length; i++) {
    for (let k = 0; k < DIM; k++)
      g[plan.localIndex[i] * DIM + k] += batch.occurrenceGrads[i * DIM + k];
  }
  return g;
}

/** torch.nn.Embedding's dense gradient: scatter-add by table row, zero elsewhere. */
function denseGradient(batch: Batch): Float64Array {
  const g = new Float64Array(VOCAB * DIM);
  for (let i = 0; i < batch.ids.length; i++) {
    for (let k = 0; k < DIM; k++) g[batch.ids[i] * DIM + k] += batch.occurrenceGrads[i * DIM + k];
  }
  return g;
}

/** torch.optim.Adam.step() (non-amsgrad, L2 weight decay) over a whole dense parameter. */
class DenseTorchAdam {
  readonly w: Float64Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
  t = 0;

  constructor(
    init: Float32Array,
    readonly cfg: SparseOptimizerConfig,
  ) {
    this.w = Float64Array.from(init);
    this.m = new Float64Array(init.length);
    this.v = new Float64Array(init.length);
  }

  step(grad: Float64Array): void {
    const { learningRate: lr, weightDecay: wd, beta1, beta2, eps } = this.cfg;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < this.w.length; i++) {
      const g = grad[i] + wd * this.w[i];
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g * g;
      const denom = Math.sqrt(this.v[i]) / Math.sqrt(bc2) + eps;
      this.w[i] -= (lr / bc1) * (this.m[i] / denom);
    }
  }
}

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  expect(worst, `${what}: worst |diff| ${worst} at ${at}`).toBeLessThan(tol);
}

const TOUCHED_SETS = [
  [0, 1, 2, 3, 4, 5],
  [4, 5, 6, 7, 20, 21],
  [0, 29],
  [10, 11, 12, 13, 14, 15, 16, 17],
  [1, 2, 21, 28],
  [0, 1, 2, 3, 4, 5],
];

describe("HostEmbeddingTable, Adam 'exact' mode", () => {
  for (const wd of [0, 0.01]) {
    it(`equals dense torch.optim.Adam over the whole table for several steps (weight_decay ${wd})`, () => {
      const cfg = adamConfig('exact', wd);
      const table = makeTable(cfg);
      const ref = new DenseTorchAdam(table.weights, cfg);
      const planner = new BatchPlanner(VOCAB);
      const rng = new Rng(100);
      for (const pool of TOUCHED_SETS) {
        const batch = makeBatch(pool, 12, rng);
        const plan = planner.plan(batch.ids);
        table.applyGradient(plan, blockGradient(plan, batch));
        ref.step(denseGradient(batch));
        expectClose(table.weights, ref.w, 2e-6, `step ${ref.t}`);
      }
      // The comparison is not vacuous: rows outside every batch moved only with weight decay.
      const untouchedRow = 25;
      const before = makeTable(cfg).weights;
      const moved = Math.abs(table.weights[untouchedRow * DIM] - before[untouchedRow * DIM]);
      if (wd === 0) expect(moved).toBe(0);
      else expect(moved).toBeGreaterThan(1e-3);
      // Rows touched once then left alone keep drifting with their momentum (dense Adam).
      expect(table.weights[7 * DIM]).not.toBeCloseTo(before[7 * DIM], 3);
    });
  }

  it('moves a row touched earlier and then absent, even with weight_decay 0 (momentum)', () => {
    const cfg = adamConfig('exact', 0);
    const table = makeTable(cfg);
    const planner = new BatchPlanner(VOCAB);
    const rng = new Rng(5);
    let batch = makeBatch([3], 2, rng);
    let plan = planner.plan(batch.ids);
    table.applyGradient(plan, blockGradient(plan, batch));
    const afterFirst = table.weights.slice(3 * DIM, 4 * DIM);
    batch = makeBatch([9], 2, rng);
    plan = planner.plan(batch.ids);
    table.applyGradient(plan, blockGradient(plan, batch));
    const afterSecond = table.weights.slice(3 * DIM, 4 * DIM);
    expect(Array.from(afterSecond)).not.toEqual(Array.from(afterFirst));
  });
});

describe("HostEmbeddingTable, Adam 'lazy' mode", () => {
  it('at step 1 equals dense Adam on touched rows and leaves untouched rows unchanged', () => {
    for (const wd of [0, 0.01]) {
      const cfg = adamConfig('lazy', wd);
      const table = makeTable(cfg);
      const initial = table.weights.slice();
      const ref = new DenseTorchAdam(table.weights, { ...cfg, mode: 'exact' });
      const planner = new BatchPlanner(VOCAB);
      const batch = makeBatch([2, 3, 5, 7, 11], 10, new Rng(7));
      const plan = planner.plan(batch.ids);
      table.applyGradient(plan, blockGradient(plan, batch));
      ref.step(denseGradient(batch));
      const touched = new Set(plan.uniqueRows);
      for (let r = 0; r < VOCAB; r++) {
        const got = table.weights.subarray(r * DIM, r * DIM + DIM);
        if (touched.has(r)) {
          expectClose(got, ref.w.subarray(r * DIM, r * DIM + DIM), 2e-6, `row ${r}`);
          expect(got[0]).not.toBe(initial[r * DIM]);
        } else {
          expect(Array.from(got)).toEqual(Array.from(initial.subarray(r * DIM, r * DIM + DIM)));
        }
      }
    }
  });

  it("leaves an untouched row's m and v alone: its first update is a fresh Adam step, and a skipped row resumes its own moments", () => {
    const wd = 0.01;
    const cfg = adamConfig('lazy', wd);
    const { learningRate: lr, beta1, beta2, eps } = cfg;
    const table = makeTable(cfg);
    const w0 = table.weights.slice();
    const planner = new BatchPlanner(VOCAB);
    const g = (row: number, k: number) => 0.3 * (row + 1) - 0.2 * k;
    const step = (rows: number[]) => {
      const plan = planner.plan(Int32Array.from(rows));
      const grad = new Float32Array(plan.uniqueRows.length * DIM);
      plan.uniqueRows.forEach((r, s) => {
        for (let k = 0; k < DIM; k++) grad[s * DIM + k] = g(r, k);
      });
      table.applyGradient(plan, grad);
    };
    step([1]); // t = 1: row 1 only
    step([2]); // t = 2: row 2 only (first update of row 2)
    step([1]); // t = 3: row 1 again, its moments untouched at t = 2
    for (let k = 0; k < DIM; k++) {
      // Row 2: m and v start from zero at the shared step count t = 2.
      {
        const w = w0[2 * DIM + k];
        const gr = g(2, k) + wd * w;
        const m = (1 - beta1) * gr;
        const v = (1 - beta2) * gr * gr;
        const expected =
          w - (lr / (1 - beta1 ** 2)) * (m / (Math.sqrt(v) / Math.sqrt(1 - beta2 ** 2) + eps));
        expect(table.weights[2 * DIM + k]).toBeCloseTo(expected, 6);
      }
      // Row 1: updates at t = 1 and t = 3 with no decay of m, v in between.
      {
        let w = w0[1 * DIM + k];
        let m = 0;
        let v = 0;
        for (const t of [1, 3]) {
          const gr = g(1, k) + wd * w;
          m = beta1 * m + (1 - beta1) * gr;
          v = beta2 * v + (1 - beta2) * gr * gr;
          w -= (lr / (1 - beta1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - beta2 ** t) + eps));
        }
        expect(table.weights[1 * DIM + k]).toBeCloseTo(w, 6);
      }
    }
    // Untouched rows never moved.
    for (let r = 3; r < VOCAB; r++) expect(table.weights[r * DIM]).toBe(w0[r * DIM]);
    expect(table.weights[0]).toBe(w0[0]);
  });
});

describe('HostEmbeddingTable, row-wise Adagrad', () => {
  /** acc_r += mean_k(g_rk^2); w_r -= lr * g_r / (sqrt(acc_r) + eps), g including weight decay. */
  function rowwiseAdagradReference(
    w: Float64Array,
    acc: Float64Array,
    grad: Float64Array,
    touched: Set<number>,
    mode: 'lazy' | 'exact',
    lr: number,
    wd: number,
    eps: number,
  ): void {
    for (let r = 0; r < acc.length; r++) {
      if (mode === 'lazy' && !touched.has(r)) continue;
      const gr = Array.from({ length: DIM }, (_, k) => grad[r * DIM + k] + wd * w[r * DIM + k]);
      acc[r] += gr.reduce((a, x) => a + x * x, 0) / DIM;
      for (let k = 0; k < DIM; k++) w[r * DIM + k] -= (lr * gr[k]) / (Math.sqrt(acc[r]) + eps);
    }
  }

  for (const mode of ['lazy', 'exact'] as const) {
    for (const wd of [0, 0.05]) {
      it(`follows its rule over several steps (mode ${mode}, weight_decay ${wd})`, () => {
        const cfg: SparseOptimizerConfig = {
          kind: 'rowwise-adagrad',
          mode,
          learningRate: 0.1,
          weightDecay: wd,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
        };
        const table = makeTable(cfg, 3);
        const initial = table.weights.slice();
        const w = Float64Array.from(table.weights);
        const acc = new Float64Array(VOCAB);
        const planner = new BatchPlanner(VOCAB);
        const rng = new Rng(9);
        for (const pool of TOUCHED_SETS) {
          const batch = makeBatch(pool, 10, rng);
          const plan = planner.plan(batch.ids);
          table.applyGradient(plan, blockGradient(plan, batch));
          rowwiseAdagradReference(
            w,
            acc,
            denseGradient(batch),
            new Set(plan.uniqueRows),
            mode,
            0.1,
            wd,
            1e-8,
          );
          expectClose(table.weights, w, 2e-6, `${mode} wd ${wd}`);
        }
        // Row 25 is in no batch.
        const moved = table.weights[25 * DIM] !== initial[25 * DIM];
        expect(moved).toBe(mode === 'exact' && wd > 0);
      });
    }
  }
});

describe('HostEmbeddingTable, SGD', () => {
  // torch.optim.SGD(momentum=0) on nn.Embedding's dense gradient: every row takes
  // w -= lr * (g + weight_decay * w), with g = 0 outside the batch. 'lazy' skips those rows.
  for (const mode of ['lazy', 'exact'] as const) {
    for (const wd of [0, 0.05]) {
      it(`equals torch's SGD rule over several steps (mode ${mode}, weight_decay ${wd})`, () => {
        const cfg: SparseOptimizerConfig = {
          ...adamConfig(mode, wd),
          kind: 'sgd',
          learningRate: 0.1,
        };
        const table = makeTable(cfg, 4);
        expect(table.bytes).toBe(VOCAB * DIM * 4);
        const initial = table.weights.slice();
        const w = Float64Array.from(table.weights);
        const planner = new BatchPlanner(VOCAB);
        const rng = new Rng(11);
        for (const pool of TOUCHED_SETS) {
          const batch = makeBatch(pool, 10, rng);
          const plan = planner.plan(batch.ids);
          table.applyGradient(plan, blockGradient(plan, batch));
          const g = denseGradient(batch);
          const touched = new Set(plan.uniqueRows);
          for (let r = 0; r < VOCAB; r++) {
            if (mode === 'lazy' && !touched.has(r)) continue;
            for (let k = 0; k < DIM; k++) {
              const i = r * DIM + k;
              w[i] -= 0.1 * (g[i] + wd * w[i]);
            }
          }
          expectClose(table.weights, w, 2e-6, `sgd ${mode} wd ${wd}`);
        }
        const moved = table.weights[25 * DIM] !== initial[25 * DIM];
        expect(moved).toBe(mode === 'exact' && wd > 0);
      });
    }
  }
});

describe('HostEmbeddingTable input checks', () => {
  it('rejects a gradient whose size does not match the plan', () => {
    const table = makeTable(adamConfig('lazy', 0));
    const plan = new BatchPlanner(VOCAB).plan(Int32Array.from([1, 2, 2]));
    expect(() => table.applyGradient(plan, new Float32Array(3 * DIM))).toThrow(/gradient/);
  });
});

describe('BatchPlanner', () => {
  it('gives a clear error for out-of-range ids', () => {
    const planner = new BatchPlanner(10);
    expect(() => planner.plan(Int32Array.from([1, 10]))).toThrow(/10.*outside.*0\.\.9/);
    expect(() => planner.plan(Int32Array.from([-1, 2]))).toThrow(/-1.*outside/);
    // A failed plan does not poison the next one.
    const plan = planner.plan(Int32Array.from([3, 3, 9]));
    expect(Array.from(plan.uniqueRows)).toEqual([3, 9]);
  });

  it('only reads the first `count` ids of a reused buffer', () => {
    const planner = new BatchPlanner(10);
    const buffer = Int32Array.from([4, 2, 4, -7, 99]);
    const plan = planner.plan(buffer, 3);
    expect(Array.from(plan.uniqueRows)).toEqual([2, 4]);
    expect(Array.from(plan.localIndex)).toEqual([1, 0, 1]);
  });

  it('stays correct when reused thousands of times (generation stamps)', () => {
    const vocab = 300;
    const planner = new BatchPlanner(vocab);
    const rng = new Rng(77);
    let previous: BatchPlan | null = null;
    for (let iter = 0; iter < 3000; iter++) {
      const n = 1 + rng.int(60);
      const hot = rng.int(vocab);
      const ids = Int32Array.from({ length: n }, () => (rng.next() < 0.4 ? hot : rng.int(vocab)));
      const plan = planner.plan(ids);
      // Reference: the distinct ids in ascending order.
      const order = [...new Set(ids)].sort((x, y) => x - y);
      const slot = new Set(order);
      expect(Array.from(plan.uniqueRows)).toEqual(order);
      for (let i = 0; i < n; i++) {
        if (plan.uniqueRows[plan.localIndex[i]] !== ids[i]) {
          throw new Error(
            `iteration ${iter}: localIndex[${i}] maps ${ids[i]} to ${plan.uniqueRows[plan.localIndex[i]]}`,
          );
        }
      }
      let touchedCount = 0;
      for (let r = 0; r < vocab; r++) {
        const t = planner.isTouched(r, plan.generation);
        if (t !== slot.has(r)) throw new Error(`iteration ${iter}: isTouched(${r}) = ${t}`);
        if (t) touchedCount++;
      }
      expect(touchedCount).toBe(order.length);
      if (previous) expect(plan.generation).not.toBe(previous.generation);
      previous = plan;
    }
  });

  it('stays correct across the generation counter wrap-around', () => {
    const planner = new BatchPlanner(8);
    planner.plan(Int32Array.from([1, 2, 3]));
    // Jump to just before the wrap (about 2^31 plans would take too long to run).
    (planner as unknown as { generation: number }).generation = 0x7ffffffd;
    const a = planner.plan(Int32Array.from([5, 6])); // generation 0x7ffffffe
    expect(Array.from(a.uniqueRows)).toEqual([5, 6]);
    const b = planner.plan(Int32Array.from([6, 1, 1])); // wraps
    expect(Array.from(b.uniqueRows)).toEqual([1, 6]);
    expect(Array.from(b.localIndex)).toEqual([1, 0, 0]);
    for (let r = 0; r < 8; r++) expect(planner.isTouched(r, b.generation)).toBe(r === 6 || r === 1);
    const c = planner.plan(Int32Array.from([2, 5]));
    expect(Array.from(c.uniqueRows)).toEqual([2, 5]);
    for (let r = 0; r < 8; r++) expect(planner.isTouched(r, c.generation)).toBe(r === 2 || r === 5);
  });
});

describe('Adam: rows no non-zero gradient has reached share one state', () => {
  const constantTable = (track: boolean, mode: 'lazy' | 'exact' = 'exact') => {
    const t = new HostEmbeddingTable(
      's',
      VOCAB,
      DIM,
      adamConfig(mode, 0.01),
      { kind: 'constant', value: -3 },
      new Rng(1),
    );
    if (track) t.trackUntouchedRows();
    return t;
  };

  it('gives the same numbers, bit for bit, as updating every row, through a reset and a reload', () => {
    const tracked = constantTable(true);
    const plain = constantTable(false);
    const pt = new BatchPlanner(VOCAB);
    const pp = new BatchPlanner(VOCAB);
    const rng = new Rng(5);
    let untouchedAtSomeStep = 0;
    for (let step = 0; step < 60; step++) {
      // Rows 0..9 come into use one by one; the others never do until the reload.
      const pool = Array.from({ length: 1 + Math.min(9, step >> 2) }, (_, i) => i);
      const batch = makeBatch(step > 40 ? [...pool, 20, 25] : pool, 4, rng);
      const planT = pt.plan(batch.ids);
      const planP = pp.plan(batch.ids);
      tracked.applyGradient(planT, blockGradient(planT, batch));
      plain.applyGradient(planP, blockGradient(planP, batch));
      // The untouched rows' entries are written out when read (saveState); the rest as is.
      expect(Array.from(tracked.saveState()[0])).toEqual(Array.from(plain.weights));
      if (tracked.bytes > plain.bytes) untouchedAtSomeStep++;
      if (step === 20) {
        // A retrain's fresh optimizer: the untouched rows keep sharing their value.
        tracked.resetOptimizerState();
        plain.resetOptimizerState();
      }
      if (step === 30) {
        // A checkpoint put back: the rows need not be alike any more.
        const saved = plain.saveState();
        saved[0][VOCAB * DIM - 1] = 7;
        tracked.loadState(saved);
        plain.loadState(saved);
      }
    }
    // The shared state was in use up to the reload (its flags count in bytes), not after.
    expect(untouchedAtSomeStep).toBe(31);
    expect(tracked.bytes).toBe(plain.bytes);
    // The rows the batches never reached moved under the decay alone, all alike.
    expect(tracked.weights[15 * DIM]).not.toBe(-3);
    expect(tracked.weights[15 * DIM]).toBe(tracked.weights[16 * DIM + 2]);
  });

  it('is not used where the rows do not start alike or a mask holds entries', () => {
    const random = makeTable(adamConfig('exact', 0.01));
    random.trackUntouchedRows();
    const masked = constantTable(false);
    masked.setMask(new Uint8Array(VOCAB * DIM).fill(1));
    masked.trackUntouchedRows();
    const bare = VOCAB * DIM * 4 * 3 + VOCAB * DIM;
    expect(random.bytes).toBe(VOCAB * DIM * 4 * 3);
    expect(masked.bytes).toBe(bare);
  });

  /**
   * Rows 0..9 come into use one by one and then get a non-zero gradient every step; rows 10..19
   * come now and then with a zero gradient (PEP's S while σ(S) underflows), after gaps of up to
   * 40 steps; rows 20..29 never come.
   */
  const mixedBatch = (step: number, rng: Rng) => {
    const live = Array.from({ length: 1 + Math.min(9, step >> 2) }, (_, i) => i);
    const quiet = rng.uniform(0, 1) < 0.3 ? [10 + rng.int(10)] : [];
    const ids = Int32Array.from([...live, ...quiet]);
    return { ids, live: live.length };
  };
  const mixedGradient = (plan: BatchPlan, rng: Rng) => {
    const g = new Float32Array(plan.uniqueRows.length * DIM);
    plan.uniqueRows.forEach((row, u) => {
      if (row < 10) for (let k = 0; k < DIM; k++) g[u * DIM + k] = rng.normal();
    });
    return g;
  };

  it("'exact': a zero gradient keeps a row in the shared state, bit for bit as updating it", () => {
    const tracked = constantTable(true);
    const plain = constantTable(false);
    const pt = new BatchPlanner(VOCAB);
    const pp = new BatchPlanner(VOCAB);
    const rng = new Rng(9);
    for (let step = 0; step < 60; step++) {
      const { ids } = mixedBatch(step, rng);
      const planT = pt.plan(ids);
      const planP = pp.plan(ids);
      const grad = mixedGradient(planT, rng);
      tracked.applyGradient(planT, grad);
      plain.applyGradient(planP, grad);
      // The untouched rows' entries are written out when read (saveState); the rest as is.
      expect(Array.from(tracked.saveState()[0])).toEqual(Array.from(plain.weights));
    }
    const flags = tracked.untouchedRows?.flags as Uint8Array;
    expect(Array.from(flags)).toEqual(Array.from({ length: VOCAB }, (_, r) => (r < 10 ? 0 : 1)));
  });

  it("'lazy': the rows a batch reaches are caught up to the shared state, and every row equals the 'exact' update bit for bit", () => {
    const lazy = constantTable(true, 'lazy');
    lazy.keepStepHistory();
    const exact = constantTable(false);
    const pl = new BatchPlanner(VOCAB);
    const pe = new BatchPlanner(VOCAB);
    const last = new Int32Array(VOCAB);
    const rng = new Rng(11);
    // A row in the shared state is read from there: 'lazy' leaves its entries of the array.
    const rowOf = (t: HostEmbeddingTable, r: number) => {
      const shared = t.untouchedRows;
      if (shared && shared.flags[r] === 1) return new Array<number>(DIM).fill(shared.value);
      return Array.from(t.weights.subarray(r * DIM, r * DIM + DIM));
    };
    // As PEP's lazy table drives it: a row is caught up when it is gathered, then updated.
    const catchUp = (row: number) => {
      lazy.catchUpDecay(row, last[row] + 1, lazy.step);
      last[row] = lazy.step;
    };
    let longestQuietGap = 0;
    const seen = new Int32Array(VOCAB).fill(-1);
    for (let step = 0; step < 120; step++) {
      const { ids } = mixedBatch(step, rng);
      const planL = pl.plan(ids);
      const planE = pe.plan(ids);
      for (const row of planL.uniqueRows) {
        if (row >= 10 && seen[row] >= 0)
          longestQuietGap = Math.max(longestQuietGap, step - seen[row]);
        seen[row] = step;
        catchUp(row);
      }
      const grad = mixedGradient(planL, rng);
      lazy.beginStep();
      planL.uniqueRows.forEach((row, u) => {
        lazy.updateRow(row, grad, u * DIM);
        last[row] = lazy.step;
      });
      exact.applyGradient(planE, grad);
      for (const row of planL.uniqueRows) expect(rowOf(lazy, row)).toEqual(rowOf(exact, row));
    }
    // Gaps longer than the one-by-one replay (16 steps) were caught up exactly all the same.
    expect(longestQuietGap).toBeGreaterThan(16);
    for (let row = 10; row < VOCAB; row++) catchUp(row);
    for (let row = 0; row < VOCAB; row++) expect(rowOf(lazy, row)).toEqual(rowOf(exact, row));
    // The untouched rows' entries of the array are stale until written, then exact's.
    expect(Array.from(lazy.weights)).not.toEqual(Array.from(exact.weights));
    lazy.writeUntouchedRows();
    expect(Array.from(lazy.weights)).toEqual(Array.from(exact.weights));
    expect(Array.from(lazy.saveState()[0])).toEqual(Array.from(exact.weights));
    const flags = lazy.untouchedRows?.flags as Uint8Array;
    expect(Array.from(flags)).toEqual(Array.from({ length: VOCAB }, (_, r) => (r < 10 ? 0 : 1)));
    // A row in the shared state is known at this step and the one before, not further back.
    expect(() => lazy.catchUpDecay(25, 1, lazy.step - 2)).toThrow(/shared state/);
  });
});
