import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../embedding/batchPlan';
import type { SparseOptimizerConfig } from '../../embedding/hostEmbeddingTable';
import { Rng } from '../../rng';
import { alphaPowerDims } from './alphaPowerRule';
import { buildMixedDimEmbedding } from './mixedDimEmbedding';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SGD: SparseOptimizerConfig = {
  kind: 'sgd',
  mode: 'lazy',
  learningRate: 1,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Three fields of 3, 12 and 48 values; d = 4; alpha 1 gives dims 4, 1, 1 (smallest keeps d). */
function tiny(alpha: number, optimizer = SGD) {
  const fieldDims = Int32Array.of(3, 12, 48);
  const dims = alphaPowerDims(fieldDims, 4, alpha, false);
  const embedding = buildMixedDimEmbedding(
    {
      numFields: 3,
      vocabulary: 63,
      fieldDims,
      fieldOffsets: Int32Array.of(0, 3, 15),
      dim: 4,
      init: { kind: 'xavier-uniform' },
      optimizer,
      rng: new Rng(3),
      allocate: true,
    },
    dims,
  );
  return { fieldDims, dims, embedding };
}

describe('mixed-dimension embeddings', () => {
  it('dimensions follow the alpha-power rule (DLRM md_solver with d0)', () => {
    expect(Array.from(alphaPowerDims([10, 100, 1000], 16, 0.5, false))).toEqual([16, 5, 2]);
    expect(Array.from(alphaPowerDims([1000, 10, 100], 16, 0.5, false))).toEqual([2, 16, 5]);
    expect(Array.from(alphaPowerDims([10, 100, 1000], 16, 0.5, true))).toEqual([16, 4, 2]);
    expect(Array.from(alphaPowerDims([10, 100, 1000], 16, 0, false))).toEqual([16, 16, 16]);
    // Never below 1, never above d.
    expect(Array.from(alphaPowerDims([1, 1e6], 8, 1, false))).toEqual([8, 1]);
  });

  it('a field vector is its row times the field projection (identity at full width)', async () => {
    const { dims, embedding } = tiny(0.5);
    expect(Array.from(dims)).toEqual([4, 2, 1]);
    const ids = Int32Array.of(1, 7, 40, 0, 14, 62); // two examples x three fields
    const planner = new BatchPlanner(63);
    const plan = planner.plan(ids);
    const store = embedding.tables;
    const block = store.gatherRows(plan);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() =>
      embedding.lookup(
        [tf.tensor2d(block, [plan.uniqueRows.length, store.dim])],
        tf.tensor1d(plan.localIndex, 'int32'),
        2,
      ),
    );
    const got = (await out.data()) as Float32Array;
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const p = (await embedding.variables[0].data()) as Float32Array; // [3, dMax = 4, d = 4]
    const offsets = [0, 3, 15];
    for (let i = 0; i < 6; i++) {
      const f = i % 3;
      const row = ids[i] - offsets[f];
      const w = store.tables[f].weights.subarray(row * dims[f], (row + 1) * dims[f]);
      for (let j = 0; j < 4; j++) {
        let want = 0;
        if (dims[f] === 4) want = w[j];
        else for (let k = 0; k < dims[f]; k++) want += w[k] * p[f * 16 + k * 4 + j];
        expect(got[i * 4 + j]).toBeCloseTo(want, 5);
      }
    }
    embedding.dispose();
  });

  it('the gradient of a row updates only its field table, in its own width', () => {
    const { dims, embedding } = tiny(0.5);
    const store = embedding.tables;
    const ids = Int32Array.of(2, 5, 20);
    const plan = new BatchPlanner(63).plan(ids);
    const before = store.tables.map((t) => t.weights.slice());
    const grad = new Float32Array(3 * 4).map((_, i) => 0.1 * (i + 1));
    store.applyGradient(plan, grad);
    const rows = [2, 5 - 3, 20 - 15];
    for (let f = 0; f < 3; f++) {
      const t = store.tables[f];
      for (let k = 0; k < dims[f]; k++) {
        const i = rows[f] * dims[f] + k;
        expect(t.weights[i]).toBeCloseTo(before[f][i] - grad[f * 4 + k], 6);
      }
      // Other rows did not move (lazy SGD without decay).
      const other = (rows[f] + 1) % t.numRows;
      expect(t.weights[other * dims[f]]).toBe(before[f][other * dims[f]]);
    }
    embedding.dispose();
  });

  it("in 'exact' mode every field's untouched rows see their decay, as dense Adam", () => {
    const { embedding } = tiny(0.5, { ...SGD, mode: 'exact', weightDecay: 0.1, learningRate: 0.5 });
    const store = embedding.tables;
    const untouched = store.tables[2].weights[10 * store.tables[2].dim];
    store.applyGradient(new BatchPlanner(63).plan(Int32Array.of(0, 3, 15)), new Float32Array(12));
    expect(store.tables[2].weights[10 * store.tables[2].dim]).toBeCloseTo(
      untouched * (1 - 0.05),
      6,
    );
    embedding.dispose();
  });

  it('counts the rows in their own widths and the projections of the narrower fields', () => {
    const { fieldDims, dims, embedding } = tiny(0.5);
    const parts = embedding.parts();
    const rows = fieldDims.reduce((a, n, f) => a + n * dims[f], 0);
    expect(parts).toEqual([
      { part: 'embedding', params: rows, bytes: 4 * rows },
      { part: 'projection', params: (2 + 1) * 4, bytes: 4 * 12 },
    ]);
    expect(store(embedding).bytes).toBeGreaterThanOrEqual(4 * rows);
    embedding.dispose();
  });
});

function store(embedding: ReturnType<typeof tiny>['embedding']) {
  return embedding.tables;
}
