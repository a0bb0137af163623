/**
 * The baseline compression methods behind the method seam: their helpers (magnitude mask, hashed
 * table, quotient-remainder tables) checked against brute force and hand-computed numbers, and
 * one short run of each through runExperiment, whose model summary must match the analytic sizes.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { plainTableOf } from '../../../workers/embedding/featureEmbedding';
import {
  HostEmbeddingTable,
  type SparseOptimizerConfig,
} from '../../../workers/embedding/hostEmbeddingTable';
import { runExperiment } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import { fieldHashes, HashedTable } from '../../../workers/methods/hashing/hashedTable';
import {
  HASH_PRIME,
  hashBucket,
  type FieldHash,
} from '../../../workers/methods/hashing/hashFunction';
import {
  keptShareByField,
  kthSmallest,
  logMagnitudeHistogram,
  magnitudeMask,
} from '../../../workers/methods/magnitude/magnitudeMask';
import { qrLayout, QrTables } from '../../../workers/methods/qr/qrTables';
import { METHOD_SPECS } from '../../../workers/methods/registry';
import {
  DEFAULT_TRAIN_CONFIG,
  validateRunConfig,
  type EmbeddingOptimizerKind,
  type EngineEvent,
  type MethodChoice,
  type RunConfig,
  type TrainConfig,
} from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------------------------------------------------------------------------------------------
// Helpers

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function optimizer(
  kind: EmbeddingOptimizerKind,
  mode: 'lazy' | 'exact',
  overrides: Partial<SparseOptimizerConfig> = {},
): SparseOptimizerConfig {
  return {
    kind,
    mode,
    learningRate: 0.05,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    ...overrides,
  };
}

function table(
  rows: number,
  dim: number,
  cfg: SparseOptimizerConfig,
  seed = 1,
  name = 't',
): HostEmbeddingTable {
  return new HostEmbeddingTable(name, rows, dim, cfg, { kind: 'normal', std: 1 }, new Rng(seed));
}

/** Random ids in [0, numRows) (with repeats). */
function randomIds(count: number, numRows: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: count }, () => rng.int(numRows));
}

function maxAbs(values: number[]): number {
  return values.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
}

function minAbs(values: number[]): number {
  return values.reduce((a, v) => Math.min(a, Math.abs(v)), Infinity);
}

// ---------------------------------------------------------------------------------------------
// Magnitude pruning

describe('magnitude pruning: the mask', () => {
  it('kthSmallest equals sorting, on random arrays with and without repeats', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + rng.int(300);
      const repeats = trial % 2 === 0;
      const values = Float32Array.from({ length: n }, () =>
        repeats ? rng.int(7) - 3 : rng.normal(),
      );
      const sorted = Float32Array.from(values).sort();
      for (const k of [0, n - 1, rng.int(n), rng.int(n), Math.floor(n / 2)]) {
        expect(kthSmallest(Float32Array.from(values), k), `n=${n} k=${k}`).toBe(sorted[k]);
      }
    }
  });

  it('global: prunes exactly round(sparsity · n) entries, every pruned |v| ≤ every kept |v|', () => {
    const rng = new Rng(3);
    const dim = 4;
    const weights = randomArray(250 * dim, rng);
    for (const sparsity of [0.01, 0.3, 0.73, 0.9, 0.999]) {
      const before = weights.slice();
      const { mask, thresholds } = magnitudeMask(weights, dim, sparsity, null);
      expect(weights).toEqual(before); // the weights are not touched
      const pruned: number[] = [];
      const kept: number[] = [];
      mask.forEach((m, i) => (m ? kept : pruned).push(weights[i]));
      expect(mask.every((m) => m === 0 || m === 1)).toBe(true);
      expect(pruned.length, `sparsity ${sparsity}`).toBe(Math.round(sparsity * weights.length));
      expect(maxAbs(pruned)).toBeLessThanOrEqual(minAbs(kept));
      expect(thresholds).toEqual([maxAbs(pruned)]);
    }
  });

  it('global: ties at the threshold still prune exactly round(sparsity · n) entries', () => {
    const rng = new Rng(5);
    const dim = 3;
    // |v| takes only the values 0.25, 0.5, 0.75 and 1: every threshold is a tie.
    const weights = Float32Array.from(
      { length: 100 * dim },
      () => (rng.int(4) + 1) * 0.25 * (rng.int(2) ? 1 : -1),
    );
    for (const sparsity of [0.1, 0.37, 0.5, 0.8]) {
      const { mask } = magnitudeMask(weights, dim, sparsity, null);
      const pruned: number[] = [];
      const kept: number[] = [];
      mask.forEach((m, i) => (m ? kept : pruned).push(weights[i]));
      expect(pruned.length).toBe(Math.round(sparsity * weights.length));
      expect(maxAbs(pruned)).toBeLessThanOrEqual(minAbs(kept));
    }
    // All equal: exactly the count, whatever the positions.
    const flat = new Float32Array(40).fill(0.5);
    const { mask } = magnitudeMask(flat, 4, 0.25, null);
    expect(mask.filter((m) => m === 0).length).toBe(10);
  });

  it('per field: each field prunes its own share, below its own threshold', () => {
    const rng = new Rng(8);
    const dim = 4;
    const fieldRows = [30, 7, 113, 1];
    const total = fieldRows.reduce((a, b) => a + b, 0);
    // Fields of very different scales: a global threshold would prune the small one entirely.
    const weights = new Float32Array(total * dim);
    let row = 0;
    fieldRows.forEach((n, f) => {
      const scale = 10 ** (f - 2);
      for (let i = row * dim; i < (row + n) * dim; i++) weights[i] = scale * rng.normal();
      row += n;
    });
    const sparsity = 0.6;
    const { mask, thresholds } = magnitudeMask(weights, dim, sparsity, fieldRows);
    expect(thresholds.length).toBe(fieldRows.length);
    let start = 0;
    fieldRows.forEach((n, f) => {
      const end = start + n * dim;
      const pruned: number[] = [];
      const kept: number[] = [];
      for (let i = start; i < end; i++) (mask[i] ? kept : pruned).push(weights[i]);
      expect(pruned.length, `field ${f}`).toBe(Math.round(sparsity * n * dim));
      expect(maxAbs(pruned)).toBeLessThanOrEqual(minAbs(kept));
      expect(thresholds[f]).toBe(maxAbs(pruned));
      start = end;
    });
    const shares = keptShareByField(mask, dim, fieldRows);
    fieldRows.forEach((n, f) => {
      expect(shares[f]).toBeCloseTo((n * dim - Math.round(sparsity * n * dim)) / (n * dim), 6);
    });
  });

  it('keptShareByField counts each field’s ones', () => {
    // Fields of 2 rows and 1 row, dim 2: entries [f0: 4][f1: 2].
    const mask = Uint8Array.of(1, 0, 0, 1, 1, 1);
    expect(Array.from(keptShareByField(mask, 2, [2, 1]))).toEqual([0.5, 1]);
    expect(Array.from(keptShareByField(Uint8Array.of(0, 0, 0, 1, 1, 1), 3, [1, 1, 0]))).toEqual([
      0, 1, 0,
    ]);
  });

  it('logMagnitudeHistogram: counts sum to the non-zeros, edges span log10 |v|', () => {
    const rng = new Rng(9);
    const weights = Float32Array.from({ length: 500 }, (_, i) =>
      i % 5 === 0 ? 0 : rng.normal() * 10 ** rng.uniform(-4, 1),
    );
    const nonZeros = weights.filter((v) => v !== 0).length;
    const { edges, counts } = logMagnitudeHistogram(weights, 40);
    expect(edges.length).toBe(41);
    expect(counts.length).toBe(40);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(nonZeros);
    const logs = Array.from(weights)
      .filter((v) => v !== 0)
      .map((v) => Math.log10(Math.abs(v)));
    expect(edges[0]).toBeCloseTo(Math.min(...logs), 5);
    expect(edges[40]).toBeCloseTo(Math.max(...logs), 5);
    for (let b = 1; b <= 40; b++) expect(edges[b]).toBeGreaterThan(edges[b - 1]);
    // Brute-force bin of every entry.
    const brute = new Array<number>(40).fill(0);
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    for (const l of logs) brute[Math.min(39, Math.floor(((l - lo) * 40) / (hi - lo)))]++;
    expect(Array.from(counts)).toEqual(brute);
    // Nothing but zeros: one empty bin.
    const empty = logMagnitudeHistogram(new Float32Array(10), 8);
    expect(Array.from(empty.counts)).toEqual([0]);
  });
});

describe('magnitude pruning: the mask holds through optimizer steps', () => {
  const ROWS = 40;
  const DIM = 4;
  const kinds: EmbeddingOptimizerKind[] = ['adam', 'sgd', 'rowwise-adagrad'];

  for (const kind of kinds) {
    for (const mode of ['lazy', 'exact'] as const) {
      it(`${kind} / ${mode}: pruned entries stay 0, kept entries of updated rows move`, () => {
        const rng = new Rng(21);
        const t = table(ROWS, DIM, optimizer(kind, mode));
        const mask = Uint8Array.from({ length: ROWS * DIM }, () => (rng.next() < 0.5 ? 0 : 1));
        // A row with every entry pruned (row-wise Adagrad must skip it).
        mask.fill(0, 0, DIM);
        const expectedKept = mask.reduce((a, b) => a + b, 0);
        const original = t.weights.slice();
        t.setMask(mask);
        expect(t.keptEntries).toBe(expectedKept);
        expect(t.currentMask).toBe(mask);
        for (let i = 0; i < mask.length; i++) {
          expect(t.weights[i]).toBe(mask[i] ? original[i] : 0);
        }
        const planner = new BatchPlanner(ROWS);
        for (let step = 0; step < 6; step++) {
          const before = t.weights.slice();
          // Always include row 0 (all pruned) and row 1.
          const ids = Int32Array.of(0, 1, ...randomIds(12, ROWS, rng));
          const plan = planner.plan(ids);
          const grad = randomArray(plan.uniqueRows.length * DIM, rng);
          t.applyGradient(plan, grad);
          const touched = new Set(plan.uniqueRows);
          for (let i = 0; i < mask.length; i++) {
            const row = Math.floor(i / DIM);
            if (mask[i] === 0) {
              expect(t.weights[i], `pruned entry ${i} at step ${step}`).toBe(0);
            } else if (touched.has(row) || (mode === 'exact' && kind !== 'sgd')) {
              // Touched rows move with their gradient; in exact mode every kept entry decays
              // (SGD's decay too, but by a relative 5e-4 only: checked below).
              expect(t.weights[i], `kept entry ${i} at step ${step}`).not.toBe(before[i]);
            } else if (mode === 'lazy') {
              expect(t.weights[i], `untouched entry ${i} at step ${step}`).toBe(before[i]);
            }
          }
          if (mode === 'exact' && kind === 'sgd') {
            // Untouched kept entries: w -= lr · wd · w.
            for (let i = 0; i < mask.length; i++) {
              if (mask[i] && !touched.has(Math.floor(i / DIM))) {
                expect(t.weights[i]).toBe(Math.fround(before[i] - 0.05 * (0.01 * before[i])));
              }
            }
          }
        }
        expect(t.keptEntries).toBe(expectedKept);
        // Lifting the mask: every entry counts again.
        t.setMask(null);
        expect(t.keptEntries).toBe(ROWS * DIM);
      });
    }
  }

  it('setMask refuses a mask of the wrong length', () => {
    const t = table(5, 2, optimizer('adam', 'lazy'));
    expect(() => t.setMask(new Uint8Array(9))).toThrow(/mask has 9 entries, expected 10/);
  });
});

// ---------------------------------------------------------------------------------------------
// Hashing

describe('hashing trick', () => {
  it('fieldHashes gives k_f = max(1, ceil(fraction · n_f)) buckets and valid parameters', () => {
    const dims = Int32Array.of(100, 7, 1, 33, 1000, 0);
    for (const fraction of [0.001, 0.1, 0.25, 0.5, 1]) {
      const hashes = fieldHashes(dims, fraction, new Rng(2));
      expect(hashes.map((h) => h.buckets)).toEqual(
        Array.from(dims, (n) => Math.max(1, Math.ceil(fraction * n))),
      );
      for (const h of hashes) {
        expect(Number.isInteger(h.a) && h.a >= 1 && h.a < HASH_PRIME).toBe(true);
        expect(Number.isInteger(h.b) && h.b >= 0 && h.b < HASH_PRIME).toBe(true);
      }
    }
    expect(fieldHashes(Int32Array.of(100), 0.25, new Rng(2))[0].buckets).toBe(25);
  });

  it('hashBucket is ((a·i + b) mod p) mod k, in [0, k), exactly (checked with BigInt)', () => {
    const rng = new Rng(4);
    const P = BigInt(HASH_PRIME);
    for (let trial = 0; trial < 2000; trial++) {
      const h: FieldHash = {
        a: 1 + Math.floor(rng.next() * (HASH_PRIME - 1)),
        b: Math.floor(rng.next() * HASH_PRIME),
        buckets: 1 + rng.int(trial % 2 ? 10 : 5_000_000),
      };
      const id = trial % 3 === 0 ? HASH_PRIME - 1 - rng.int(1000) : rng.int(5_000_000);
      const bucket = hashBucket(h, id);
      const expected = Number(((BigInt(h.a) * BigInt(id) + BigInt(h.b)) % P) % BigInt(h.buckets));
      expect(bucket).toBe(expected);
      expect(bucket >= 0 && bucket < h.buckets).toBe(true);
    }
  });

  const fieldDims = Int32Array.of(50, 30, 7, 3);
  const DIM = 3;

  function hashed(cfg: SparseOptimizerConfig, seed = 6) {
    const hashes = fieldHashes(fieldDims, 0.2, new Rng(seed));
    const rows = hashes.reduce((a, h) => a + h.buckets, 0);
    const inner = table(rows, DIM, cfg, 31, 'embedding');
    return { store: new HashedTable(inner, hashes, fieldDims), hashes, rows };
  }

  it('maps every global id into its own field’s bucket range, and gathers that row', () => {
    const { store, hashes, rows } = hashed(optimizer('adam', 'lazy'));
    expect(rows).toBe(10 + 6 + 2 + 1);
    expect(store.rowOf.length).toBe(90);
    let id = 0;
    let offset = 0;
    hashes.forEach((h, f) => {
      for (let i = 0; i < fieldDims[f]; i++, id++) {
        expect(store.rowOf[id]).toBe(offset + hashBucket(h, i));
        expect(store.rowOf[id] >= offset && store.rowOf[id] < offset + h.buckets).toBe(true);
      }
      offset += h.buckets;
    });
    const ids = Int32Array.of(0, 5, 49, 50, 79, 80, 89, 5);
    const plan = new BatchPlanner(90).plan(ids);
    const block = store.gatherRows(plan);
    const w = store.table.weights;
    plan.uniqueRows.forEach((g, u) => {
      const r = store.rowOf[g];
      expect(Array.from(block.subarray(u * DIM, u * DIM + DIM))).toEqual(
        Array.from(w.subarray(r * DIM, r * DIM + DIM)),
      );
    });
  });

  for (const mode of ['lazy', 'exact'] as const) {
    it(`${mode}: ids sharing a bucket apply the SUM of their gradients (bit-equal to a plain table)`, () => {
      const cfg = optimizer('adam', mode, { weightDecay: 0.02 });
      const { store, rows } = hashed(cfg);
      const reference = table(rows, DIM, cfg, 31, 'embedding');
      expect(reference.weights).toEqual(store.table.weights);
      // Two values of field 0 in one bucket (50 values in 10 buckets: there must be some).
      let a = -1;
      let b = -1;
      for (let i = 0; i < 50 && b < 0; i++) {
        for (let j = i + 1; j < 50; j++) {
          if (store.rowOf[i] === store.rowOf[j]) {
            a = i;
            b = j;
            break;
          }
        }
      }
      expect(b).toBeGreaterThan(a);
      const other = Array.from({ length: 40 }, (_, k) => 50 + k).find(
        (g) => store.rowOf[g] !== store.rowOf[a],
      )!;
      const rng = new Rng(12);
      const outer = new BatchPlanner(90);
      const refPlanner = new BatchPlanner(rows);
      for (let step = 0; step < 4; step++) {
        // The colliding pair, another id, and random ones (more collisions among them).
        const ids = Int32Array.of(a, other, b, ...randomIds(6, 90, rng));
        const plan = outer.plan(ids);
        const grad = randomArray(plan.uniqueRows.length * DIM, rng);
        // The reference: one row per bucket, gradients of the ids in it summed in float32.
        const bucketIds = Int32Array.from(plan.uniqueRows, (g) => store.rowOf[g]);
        const refPlan = refPlanner.plan(bucketIds);
        const refGrad = new Float32Array(refPlan.uniqueRows.length * DIM);
        plan.uniqueRows.forEach((_, u) => {
          const slot = refPlan.localIndex[u];
          for (let k = 0; k < DIM; k++) refGrad[slot * DIM + k] += grad[u * DIM + k];
        });
        expect(refPlan.uniqueRows.length).toBeLessThan(plan.uniqueRows.length);
        store.applyGradient(plan, grad);
        reference.applyGradient(refPlan, refGrad);
        expect(store.table.weights, `step ${step}`).toEqual(reference.weights);
      }
      expect(store.table.step).toBe(4);
    });
  }

  it('collidedShare equals a brute-force count per field', () => {
    const { store, hashes } = hashed(optimizer('sgd', 'lazy'), 17);
    const shares = store.collidedShare(fieldDims);
    hashes.forEach((h, f) => {
      let collided = 0;
      for (let i = 0; i < fieldDims[f]; i++) {
        let shared = false;
        for (let j = 0; j < fieldDims[f]; j++) {
          if (j !== i && hashBucket(h, j) === hashBucket(h, i)) shared = true;
        }
        if (shared) collided++;
      }
      expect(shares[f], `field ${f}`).toBeCloseTo(collided / fieldDims[f], 6);
    });
    // 50 values in 10 buckets, 3 values in 1 bucket: collisions are certain.
    expect(shares[0]).toBeGreaterThan(0);
    expect(shares[3]).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Quotient-remainder

describe('quotient-remainder embeddings', () => {
  it('qrLayout: ceil(n/c) quotient and c remainder rows for large fields, n rows otherwise', () => {
    const dims = Int32Array.of(1000, 150, 201, 3, 10);
    const layout = qrLayout(dims, 4, 200);
    expect(layout.compressed).toEqual([true, false, true, false, false]);
    expect(Array.from(layout.qOffset)).toEqual([0, 250, 400, 451, 454]);
    expect(Array.from(layout.rOffset)).toEqual([0, -1, 4, -1, -1]);
    expect(layout.qRows).toBe(250 + 150 + 51 + 3 + 10);
    expect(layout.rRows).toBe(8);
    // Threshold 0: a field of at most c values is still kept whole.
    const small = qrLayout(Int32Array.of(3, 4, 5, 9), 4, 0);
    expect(small.compressed).toEqual([false, false, true, true]);
    expect(small.qRows).toBe(3 + 4 + 2 + 3);
    expect(small.rRows).toBe(8);
    expect(Array.from(small.rOffset)).toEqual([-1, -1, 0, 4]);
  });

  // Field 0: 5 values, compressed with c = 2 (Q rows 0..2, R rows 0..1); field 1: 3 values, kept
  // whole (Q rows 3..5). Global ids 0..4 and 5..7.
  const FIELD_DIMS = Int32Array.of(5, 3);
  const C = 2;
  const D = 2;

  function qrTables(multiply: boolean, kind: EmbeddingOptimizerKind = 'sgd', mode = 'lazy') {
    const layout = qrLayout(FIELD_DIMS, C, 3);
    expect(layout.compressed).toEqual([true, false]);
    const cfg = optimizer(kind, mode as 'lazy' | 'exact', { learningRate: 0.5, weightDecay: 0 });
    const q = table(layout.qRows, D, cfg, 1, 'q');
    const r = table(layout.rRows, D, cfg, 2, 'r');
    return { q, r, store: new QrTables(q, r, layout, FIELD_DIMS, multiply) };
  }

  for (const multiply of [true, false]) {
    it(`gatherRows: Q[floor(i/c)] ${multiply ? '⊙' : '+'} R[i mod c]; small fields read Q`, () => {
      const { q, r, store } = qrTables(multiply);
      const ids = Int32Array.of(7, 0, 1, 2, 3, 4, 5, 6, 0);
      const plan = new BatchPlanner(8).plan(ids);
      const block = store.gatherRows(plan);
      plan.uniqueRows.forEach((g, u) => {
        for (let k = 0; k < D; k++) {
          let expected: number;
          if (g < 5) {
            const qv = q.weights[Math.floor(g / C) * D + k];
            const rv = r.weights[(g % C) * D + k];
            expected = Math.fround(multiply ? qv * rv : qv + rv);
          } else {
            expected = q.weights[(3 + g - 5) * D + k];
          }
          expect(block[u * D + k], `id ${g} k ${k}`).toBe(expected);
        }
      });
    });
  }

  it('SGD, product: one step equals the chain rule by hand (values before the update)', () => {
    const { q, r, store } = qrTables(true);
    // Dyadic values: every product and sum below is exact in float32.
    q.weights.set([1, 2, -0.5, 0.25, 3, -1, 0.75, 0.5, -2, 4, 1.5, -0.25]);
    r.weights.set([0.5, 2, -1, 0.25]);
    const Q = q.weights.slice();
    const R = r.weights.slice();
    // ids 0 (Q0,R0), 1 (Q0,R1), 2 (Q1,R0), 4 (Q2,R0), 5 (Q3, no R).
    const plan = new BatchPlanner(8).plan(Int32Array.of(0, 1, 2, 4, 5, 0));
    expect(Array.from(plan.uniqueRows)).toEqual([0, 1, 2, 4, 5]);
    const g = Float32Array.of(1, -2, 0.5, 4, -1, 0.25, 2, 1, -0.5, 8);
    const gi = (u: number, k: number) => g[u * D + k];
    const qv = (row: number, k: number) => Q[row * D + k];
    const rv = (row: number, k: number) => R[row * D + k];
    store.applyGradient(plan, g);
    const lr = 0.5;
    for (let k = 0; k < D; k++) {
      const dQ0 = gi(0, k) * rv(0, k) + gi(1, k) * rv(1, k);
      const dQ1 = gi(2, k) * rv(0, k);
      const dQ2 = gi(3, k) * rv(0, k);
      const dQ3 = gi(4, k);
      const dR0 = gi(0, k) * qv(0, k) + gi(2, k) * qv(1, k) + gi(3, k) * qv(2, k);
      const dR1 = gi(1, k) * qv(0, k);
      expect(q.weights[0 * D + k]).toBe(qv(0, k) - lr * dQ0);
      expect(q.weights[1 * D + k]).toBe(qv(1, k) - lr * dQ1);
      expect(q.weights[2 * D + k]).toBe(qv(2, k) - lr * dQ2);
      expect(q.weights[3 * D + k]).toBe(qv(3, k) - lr * dQ3);
      expect(r.weights[0 * D + k]).toBe(rv(0, k) - lr * dR0);
      expect(r.weights[1 * D + k]).toBe(rv(1, k) - lr * dR1);
    }
    // Rows nobody touched.
    expect(Array.from(q.weights.subarray(4 * D))).toEqual(Array.from(Q.subarray(4 * D)));
    // The exact numbers of one entry, spelled out: Q0[0] = 1 - 0.5·(1·0.5 + 0.5·(-1)) = 1.
    expect(q.weights[0]).toBe(1);
    // R0[1] = 2 - 0.5·(-2·2 + 0.25·0.25 + 1·(-1)) = 4.46875.
    expect(r.weights[1]).toBe(4.46875);
  });

  it('SGD, sum: dQ = Σ g and dR = Σ g over the ids sharing a row', () => {
    const { q, r, store } = qrTables(false);
    q.weights.set([1, 2, -0.5, 0.25, 3, -1, 0.75, 0.5, -2, 4, 1.5, -0.25]);
    r.weights.set([0.5, 2, -1, 0.25]);
    const Q = q.weights.slice();
    const R = r.weights.slice();
    const plan = new BatchPlanner(8).plan(Int32Array.of(0, 1, 2, 6));
    const g = Float32Array.of(1, -2, 0.5, 4, -1, 0.25, 2, 1);
    store.applyGradient(plan, g);
    for (let k = 0; k < D; k++) {
      expect(q.weights[0 * D + k]).toBe(Q[k] - 0.5 * (g[k] + g[D + k]));
      expect(q.weights[1 * D + k]).toBe(Q[D + k] - 0.5 * g[2 * D + k]);
      expect(q.weights[4 * D + k]).toBe(Q[4 * D + k] - 0.5 * g[3 * D + k]);
      expect(r.weights[0 * D + k]).toBe(R[k] - 0.5 * (g[k] + g[2 * D + k]));
      expect(r.weights[1 * D + k]).toBe(R[D + k] - 0.5 * g[D + k]);
    }
  });

  for (const mode of ['lazy', 'exact'] as const) {
    it(`${mode}: a batch of small-field ids only leaves R untouched`, () => {
      const { q, r, store } = qrTables(true, 'adam', mode);
      const R = r.weights.slice();
      const Q = q.weights.slice();
      const plan = new BatchPlanner(8).plan(Int32Array.of(5, 6, 7, 6));
      store.applyGradient(plan, Float32Array.of(1, 2, 3, 4, 5, 6));
      expect(r.weights).toEqual(R);
      for (let row = 3; row < 6; row++) {
        for (let k = 0; k < D; k++) expect(q.weights[row * D + k]).not.toBe(Q[row * D + k]);
      }
      // Field 0's quotient rows had no gradient (weight decay 0): unchanged in both modes.
      expect(Array.from(q.weights.subarray(0, 3 * D))).toEqual(Array.from(Q.subarray(0, 3 * D)));
    });
  }

  it('saveState / loadState round-trips both tables', () => {
    const { q, r, store } = qrTables(true);
    const saved = store.saveState();
    const Q = q.weights.slice();
    const R = r.weights.slice();
    store.applyGradient(
      new BatchPlanner(8).plan(Int32Array.of(0, 3, 6)),
      new Float32Array(6).fill(1),
    );
    expect(q.weights).not.toEqual(Q);
    store.loadState(saved);
    expect(q.weights).toEqual(Q);
    expect(r.weights).toEqual(R);
  });
});

// ---------------------------------------------------------------------------------------------
// Shape-only stores (the model card builds them with allocate = false)

describe('shape-only row stores (describeRun)', () => {
  const ROWS = 1_000_000;
  const fieldDims = Int32Array.of(ROWS, ROWS);
  const shapeOnly = (name: string, rows: number) =>
    new HostEmbeddingTable(
      name,
      rows,
      8,
      optimizer('adam', 'lazy'),
      { kind: 'zeros' },
      new Rng(1),
      false,
    );
  const hashedStore = () =>
    new HashedTable(shapeOnly('h', 2 * ROWS), fieldHashes(fieldDims, 1, new Rng(1)), fieldDims);
  const qrStore = () => {
    const layout = qrLayout(fieldDims, 2, 0);
    return new QrTables(
      shapeOnly('q', layout.qRows),
      shapeOnly('r', layout.rRows),
      layout,
      fieldDims,
      true,
    );
  };

  it('hold no weights and no id maps', () => {
    const h = hashedStore();
    expect(h.table.weights.length).toBe(0);
    expect(h.rowOf.length).toBe(0);
    const q = qrStore();
    expect(q.quotient.weights.length).toBe(0);
    expect(q.qRowOf.length).toBe(0);
    expect(q.rRowOf.length).toBe(0);
  });

  // A shape-only store (describeRun, the model card) allocates nothing row-sized.
  it('allocate nothing proportional to their rows', () => {
    expect(hashedStore().bytes).toBeLessThan(1024);
    expect(qrStore().bytes).toBeLessThan(1024);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end through runExperiment

describe('baselines end to end (runExperiment, deepfm, cpu)', () => {
  const data = { seed: 4, numRows: 800, numFields: 5, maxCardinality: 200 };
  const ds = generateSyntheticCtr(data);
  const D = 8;
  const train: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    model: 'deepfm',
    embeddingDim: D,
    mlpLayers: [8],
    batchSize: 32,
    epochs: 1,
    maxSteps: 10,
    learningRate: 0.01,
  };
  const STEPS_PER_EPOCH = Math.ceil(ds.split.train.length / 32);

  async function run(method: MethodChoice) {
    const events: EngineEvent[] = [];
    const outcome = await runExperiment(ds, train, method, new RunControl(), (e) => events.push(e));
    return { ...outcome, events };
  }

  function embeddingPart(parts: { part: string; params: number; bytes: number }[]) {
    const found = parts.filter((p) => p.part === 'embedding');
    expect(found.length).toBe(1);
    return found[0];
  }

  it('uniform-dim: validateRunConfig refuses d′ ≥ d under method.dim', () => {
    const config = (dim: number): RunConfig => ({
      source: 'synthetic',
      data,
      train,
      method: { id: 'uniform-dim', options: { dim } },
    });
    for (const dim of [D, D + 1, 200]) {
      const errors = validateRunConfig(config(dim), METHOD_SPECS);
      expect(Object.keys(errors)).toEqual(['method.dim']);
      expect(errors['method.dim']).toContain(String(D));
      expect(errors['method.dim']).toMatch(/smaller than the embedding dim/);
    }
    expect(validateRunConfig(config(D - 1), METHOD_SPECS)).toEqual({});
    expect(validateRunConfig(config(1), METHOD_SPECS)).toEqual({});
  });

  it('uniform-dim: the model is built with d′ and counted as N·d′ against N·d', async () => {
    const before = tf.memory().numTensors;
    const { result, kept } = await run({ id: 'uniform-dim', options: { dim: 3 } });
    expect(result.steps).toBe(10);
    expect(embeddingPart(result.model.parts)).toEqual({
      part: 'embedding',
      params: ds.totalVocabulary * 3,
      bytes: 4 * ds.totalVocabulary * 3,
    });
    expect(result.model.denseEmbeddingParams).toBe(ds.totalVocabulary * D);
    expect(kept.model.embedding.dim).toBe(3);
    expect(plainTableOf(kept.model.embedding).weights.length).toBe(ds.totalVocabulary * 3);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('magnitude: prunes to the target sparsity, counts the kept entries, fine-tunes from there', async () => {
    const before = tf.memory().numTensors;
    const sparsity = 0.8;
    const { result, kept, events } = await run({
      id: 'magnitude',
      options: { sparsity, scope: 'global', fineTuneEpochs: 1 },
    });
    const entries = ds.totalVocabulary * D;
    const keptEntries = entries - Math.round(sparsity * entries);
    expect(result.methodResult.sparsity as number).toBeCloseTo(sparsity, 3);
    expect(Math.abs((result.methodResult.sparsity as number) - sparsity)).toBeLessThan(1e-3);
    expect(result.methodResult.keptEntries).toBe(keptEntries);
    expect(embeddingPart(result.model.parts)).toEqual({
      part: 'embedding',
      params: keptEntries,
      bytes: ds.totalVocabulary * Math.ceil(D / 8) + 4 * keptEntries,
    });
    expect(result.model.denseEmbeddingParams).toBe(entries);
    // Two phases: 10 dense steps, then one epoch of fine-tuning.
    expect(result.phases.map((p) => p.id)).toEqual(['train', 'fine-tune']);
    expect(result.phases.map((p) => p.steps)).toEqual([10, STEPS_PER_EPOCH]);
    expect(result.steps).toBe(10 + STEPS_PER_EPOCH);
    const fineTune = result.evaluations.filter((e) => e.phase === 'fine-tune');
    expect(fineTune.length).toBeGreaterThanOrEqual(2);
    expect(fineTune[0].step).toBe(10); // evaluateAtStart: before the first fine-tune step
    expect(fineTune.at(-1)!.step).toBe(10 + STEPS_PER_EPOCH);
    const phases = events.filter((e) => e.type === 'phase');
    expect(phases.map((e) => e.type === 'phase' && e.phase.startStep)).toEqual([0, 10]);
    // The kept model: pruned entries are 0, exactly the kept count is trainable.
    const t = plainTableOf(kept.model.embedding);
    const mask = t.currentMask!;
    expect(mask).not.toBeNull();
    expect(t.keptEntries).toBe(keptEntries);
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) expect(t.weights[i]).toBe(0);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hashing: the embedding is Σ_f ceil(fraction · n_f) rows of d', async () => {
    const before = tf.memory().numTensors;
    const fraction = 0.3;
    const { result, kept } = await run({ id: 'hashing', options: { fraction } });
    const rows = Array.from(ds.fieldDims).reduce(
      (a, n) => a + Math.max(1, Math.ceil(fraction * n)),
      0,
    );
    expect(rows).toBeLessThan(ds.totalVocabulary);
    expect(embeddingPart(result.model.parts)).toEqual({
      part: 'embedding',
      params: rows * D,
      bytes: 4 * rows * D,
    });
    expect(result.methodResult.rows).toBe(rows);
    expect(result.model.denseEmbeddingParams).toBe(ds.totalVocabulary * D);
    expect(result.steps).toBe(10);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('QR: the embedding is the quotient plus remainder rows of d', async () => {
    const before = tf.memory().numTensors;
    const c = 4;
    const threshold = 50;
    const { result, kept } = await run({
      id: 'qr',
      options: { collisions: c, operation: 'mult', threshold },
    });
    const dims = Array.from(ds.fieldDims);
    const compressed = dims.filter((n) => n > threshold && n > c);
    // The slice must have both kinds of field for the count to mean anything.
    expect(compressed.length).toBeGreaterThan(0);
    expect(compressed.length).toBeLessThan(dims.length);
    const qRows = dims.reduce((a, n) => a + (n > threshold && n > c ? Math.ceil(n / c) : n), 0);
    const rRows = compressed.length * c;
    expect(embeddingPart(result.model.parts)).toEqual({
      part: 'embedding',
      params: (qRows + rRows) * D,
      bytes: 4 * (qRows + rRows) * D,
    });
    expect(result.methodResult.quotientRows).toBe(qRows);
    expect(result.methodResult.remainderRows).toBe(rRows);
    expect(result.methodResult.compressedFields).toBe(compressed.length);
    expect(result.steps).toBe(10);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
