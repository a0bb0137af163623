import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lookupRows, planSegmentSum, segmentSumRows } from '../../../workers/embedding/rowLookup';
import type { HostEmbeddingTable } from '../../../workers/embedding/hostEmbeddingTable';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { FmFamilyModel } from '../../../workers/models/fmFamily';
import { DEFAULT_SPARSE_OPTIMIZER } from '../../../workers/embedding/hostEmbeddingTable';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randn(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('lookupRows (gather whose backward is scatterND)', () => {
  it('forward equals tf.gather', () => {
    const rng = new Rng(1);
    const block = tf.tensor2d(randn(5 * 3, rng), [5, 3]);
    const idx = tf.tensor1d([4, 0, 0, 2, 4, 4], 'int32');
    const a = lookupRows(block, idx);
    const b = tf.gather(block, idx);
    expect(a.shape).toEqual([6, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([block, idx, a, b]);
  });

  it('gradient with duplicate indices equals the stock gather gradient and the analytic sum', () => {
    const rng = new Rng(2);
    const u = 7;
    const d = 4;
    const n = 40;
    // Duplicates on purpose; row 6 is never referenced.
    const index = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : rng.int(u - 1)));
    const wValues = randn(n * d, rng);
    const block = tf.tensor2d(randn(u * d, rng), [u, d]);
    const idx = tf.tensor1d(index, 'int32');
    const w = tf.tensor2d(wValues, [n, d]);

    const loss = (f: (b: tf.Tensor2D) => tf.Tensor2D) => (b: tf.Tensor) =>
      f(b as tf.Tensor2D)
        .mul(w)
        .sum() as tf.Scalar;
    const gCustom = tf.grad(loss((b) => lookupRows(b, idx)))(block);
    const gStock = tf.grad(loss((b) => tf.gather(b, idx)))(block);
    const custom = gCustom.dataSync();
    expect(gCustom.shape).toEqual([u, d]);
    expect(maxAbsDiff(custom, gStock.dataSync())).toBeLessThan(1e-5);

    // d/dblock[r] sum(gather * W) = sum of W rows whose index is r.
    const expected = new Float64Array(u * d);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < d; k++) expected[index[i] * d + k] += wValues[i * d + k];
    expect(maxAbsDiff(custom, expected)).toBeLessThan(1e-5);
    for (let k = 0; k < d; k++) expect(custom[6 * d + k]).toBe(0);
    tf.dispose([block, idx, w, gCustom, gStock]);
  });

  it('gradient of a nonlinear loss matches central finite differences', () => {
    const rng = new Rng(3);
    const u = 4;
    const d = 3;
    const index = Int32Array.from([0, 3, 3, 1, 0, 3, 2, 2, 3]);
    const n = index.length;
    const wValues = randn(n * d, rng);
    const blockValues = randn(u * d, rng);
    const idx = tf.tensor1d(index, 'int32');
    const w = tf.tensor2d(wValues, [n, d]);
    // Quadratic loss: central differences are exact up to rounding.
    const f = (b: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const g = lookupRows(b as tf.Tensor2D, idx);
        return g.mul(w).sum().add(g.square().sum().mul(0.5)) as tf.Scalar;
      });
    const block = tf.tensor2d(blockValues, [u, d]);
    const grad = tf.grad(f)(block);
    const analytic = grad.dataSync();
    const h = 1e-2;
    for (let j = 0; j < u * d; j++) {
      const plus = Float32Array.from(blockValues);
      const minus = Float32Array.from(blockValues);
      plus[j] += h;
      minus[j] -= h;
      const lp = tf.tidy(() => f(tf.tensor2d(plus, [u, d])).dataSync()[0]);
      const lm = tf.tidy(() => f(tf.tensor2d(minus, [u, d])).dataSync()[0]);
      expect(analytic[j]).toBeCloseTo((lp - lm) / (2 * h), 2);
    }
    tf.dispose([idx, w, block, grad]);
  });

  it('the host-block gradient equals dense autodiff over the full table, restricted to touched rows', () => {
    const rng = new Rng(4);
    const vocab = 50;
    const d = 5;
    const batch = 24;
    const fields = 3;
    const n = batch * fields;
    const tableValues = randn(vocab * d, rng);
    // Skewed ids so that many repeat; rows >= 30 are never touched.
    const ids = Int32Array.from({ length: n }, () =>
      Math.min(29, Math.floor(Math.exp(rng.next() * Math.log(30)))),
    );
    const wValues = randn(n * d, rng);

    const planner = new BatchPlanner(vocab);
    const plan = planner.plan(ids);
    const uCount = plan.uniqueRows.length;
    expect(uCount).toBeLessThan(n);
    const blockValues = new Float32Array(uCount * d);
    for (let s = 0; s < uCount; s++) {
      blockValues.set(
        tableValues.subarray(plan.uniqueRows[s] * d, plan.uniqueRows[s] * d + d),
        s * d,
      );
    }

    const w = tf.tensor2d(wValues, [n, d]);
    const nonlinear = (g: tf.Tensor2D) =>
      tf.tanh(g).mul(w).sum().add(g.square().mean()) as tf.Scalar;

    const block = tf.tensor2d(blockValues, [uCount, d]);
    const localIdx = tf.tensor1d(plan.localIndex, 'int32');
    const { value: lossBlock, grad: gBlock } = tf.valueAndGrad((b: tf.Tensor) =>
      nonlinear(lookupRows(b as tf.Tensor2D, localIdx)),
    )(block);

    const table = tf.tensor2d(tableValues, [vocab, d]);
    const globalIdx = tf.tensor1d(ids, 'int32');
    const { value: lossDense, grad: gDense } = tf.valueAndGrad((t: tf.Tensor) =>
      nonlinear(tf.gather(t as tf.Tensor2D, globalIdx)),
    )(table);

    expect(lossBlock.dataSync()[0]).toBeCloseTo(lossDense.dataSync()[0], 4);
    const blockGrad = gBlock.dataSync();
    const denseGrad = gDense.dataSync();
    let maxErr = 0;
    for (let s = 0; s < uCount; s++) {
      const r = plan.uniqueRows[s];
      for (let k = 0; k < d; k++)
        maxErr = Math.max(maxErr, Math.abs(blockGrad[s * d + k] - denseGrad[r * d + k]));
    }
    expect(maxErr).toBeLessThan(1e-5);
    // Every row the plan does not list has zero dense gradient.
    const touched = new Set(plan.uniqueRows);
    for (let r = 0; r < vocab; r++) {
      if (touched.has(r)) continue;
      for (let k = 0; k < d; k++) expect(denseGrad[r * d + k]).toBe(0);
    }
    tf.dispose([w, block, localIdx, lossBlock, gBlock, table, globalIdx, lossDense, gDense]);
  });

  it('an FM forward on the touched block has the same loss and row gradients as on the whole table', () => {
    const rng = new Rng(5);
    const vocab = 60;
    const fields = 4;
    const batch = 16;
    const model = new FmFamilyModel(
      {
        kind: 'fm',
        numFields: fields,
        vocabulary: vocab,
        embeddingDim: 3,
        mlpLayers: [],
        dropout: 0,
        batchNorm: false,
      },
      DEFAULT_SPARSE_OPTIMIZER,
      rng.fork(1),
    );
    // Field f uses rows [15f, 15f + 15), Zipf-ish so that ids repeat.
    const ids = Int32Array.from(
      { length: batch * fields },
      (_, i) => 15 * (i % fields) + Math.min(14, rng.int(4) * rng.int(5)),
    );
    const labels = tf.tensor1d(
      Float32Array.from({ length: batch }, () => (rng.next() < 0.3 ? 1 : 0)),
    );
    const planner = new BatchPlanner(vocab);
    const plan = planner.plan(ids);

    const run = (tableRows: tf.Tensor2D[], index: Int32Array) => {
      const vars = tableRows.map((t) => tf.variable(t));
      const localIndex = tf.tensor1d(index, 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.forward(
          { tableRows: vars, localIndex, dense: null, batchSize: batch, dropoutSeed: 0 },
          true,
        );
        return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
      }, vars);
      const out = {
        loss: value.dataSync()[0],
        grads: vars.map((v) => grads[v.name].dataSync()),
      };
      tf.dispose([value, localIndex, ...Object.values(grads), ...vars, ...tableRows]);
      return out;
    };
    const blockRun = run(
      model.tables.map((t) => tf.tensor2d(t.gatherRows(plan), [plan.uniqueRows.length, t.dim])),
      plan.localIndex,
    );
    const denseRun = run(
      model.tables.map((t) => {
        const table = t as HostEmbeddingTable;
        return tf.tensor2d(table.weights, [table.numRows, table.dim]);
      }),
      ids,
    );
    expect(blockRun.loss).toBeCloseTo(denseRun.loss, 5);
    model.tables.forEach((t, ti) => {
      const dim = t.dim;
      for (let s = 0; s < plan.uniqueRows.length; s++) {
        const r = plan.uniqueRows[s];
        for (let k = 0; k < dim; k++) {
          expect(blockRun.grads[ti][s * dim + k]).toBeCloseTo(denseRun.grads[ti][r * dim + k], 5);
        }
      }
    });
    labels.dispose();
    model.dispose();
  });
});

describe('segmentSumRows (the webgl gradient of the row gather)', () => {
  function scatterSum(index: Int32Array, values: Float32Array, rows: number, d: number) {
    const out = new Float64Array(rows * d);
    for (let i = 0; i < index.length; i++)
      for (let k = 0; k < d; k++) out[index[i] * d + k] += values[i * d + k];
    return out;
  }

  it('plans runs sorted by index with one mask per doubling of the longest run', () => {
    const plan = planSegmentSum(Int32Array.from([2, 0, 2, 2, 0, 2, 2]), 4);
    expect(Array.from(plan.order)).toEqual([1, 4, 0, 2, 3, 5, 6]);
    // Row 0 ends at sorted position 1, row 2 at 6; rows 1 and 3 are never used.
    expect(Array.from(plan.ends)).toEqual([1, 7, 6, 7]);
    expect(plan.hasEmptyRows).toBe(true);
    // Longest run 5: shifts 1, 2, 4.
    expect(plan.masks.map((m) => Array.from(m))).toEqual([
      [0, 1, 0, 1, 1, 1, 1],
      [0, 0, 0, 0, 1, 1, 1],
      [0, 0, 0, 0, 0, 0, 1],
    ]);
  });

  it('equals the scatter-add of the rows, skewed runs and unused rows included', () => {
    const rng = new Rng(11);
    for (const [rows, n, d] of [
      [1, 9, 3],
      [13, 200, 4],
      [300, 1000, 2],
      [64, 64, 5],
    ]) {
      // Zipf-like: a few rows take most positions, some rows are never used.
      const index = Int32Array.from({ length: n }, () =>
        Math.min(rows - 1, Math.floor(Math.exp(rng.next() * Math.log(rows + 1))) - 1),
      );
      const values = randn(n * d, rng);
      const plan = planSegmentSum(index, rows);
      const t = tf.tensor2d(values, [n, d]);
      const sum = segmentSumRows(t, plan);
      expect(sum.shape).toEqual([rows, d]);
      const got = sum.dataSync();
      const want = scatterSum(index, values, rows, d);
      for (let j = 0; j < want.length; j++)
        expect(Math.abs(got[j] - want[j])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[j])));
      tf.dispose([t, sum]);
    }
  });

  it('needs no pass when every index is used once', () => {
    const plan = planSegmentSum(Int32Array.from([3, 1, 0, 2]), 4);
    expect(plan.masks).toHaveLength(0);
    const t = tf.tensor2d([1, 2, 3, 4], [4, 1]);
    const sum = segmentSumRows(t, plan);
    expect(Array.from(sum.dataSync())).toEqual([3, 2, 4, 1]);
    tf.dispose([t, sum]);
  });
});
