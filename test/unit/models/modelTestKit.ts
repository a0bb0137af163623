/**
 * Shared helpers for the model tests: drive a RankingModel the way trainStep does (dedup ids,
 * upload touched rows, lookupRows, dense optimizer + host table update), set weights to known
 * values, and small plain-JS reference layers for hand-computed forwards.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import type { SparseOptimizerConfig } from '../../../workers/embedding/hostEmbeddingTable';
import type { RankingModel } from '../../../workers/models/rankingModel';
import { bceWithLogits } from '../../../workers/models/losses';
import type { DenseOptimizer } from '../../../workers/optim/denseOptimizers';
import { Rng } from '../../../workers/rng';

/** Dense Adam for the model tests: torch semantics, lr 0.01, no decay. */
export const TEST_DENSE_ADAM = {
  learningRate: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  decoupledWeightDecay: false,
};

export const TEST_SPARSE_ADAM: SparseOptimizerConfig = {
  kind: 'adam',
  mode: 'lazy',
  learningRate: 0.01,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Assigns every variable values ~ U(-scale, scale) from a seeded generator; returns the values. */
export async function setVariables(
  vars: tf.Variable[],
  seed: number,
  scale = 0.5,
): Promise<Map<tf.Variable, Float32Array>> {
  const rng = new Rng(seed);
  const out = new Map<tf.Variable, Float32Array>();
  for (const v of vars) {
    const values = new Float32Array(v.size);
    for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-scale, scale);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    out.set(v, (await v.data()) as Float32Array);
  }
  return out;
}

export function fillTable(weights: Float32Array, seed: number, scale = 0.5): void {
  const rng = new Rng(seed);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.fround(rng.uniform(-scale, scale));
}

/** y = x W + b with W stored [in, out] row-major (the layers' layout). */
export function linearJs(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): number[] {
  const out = b.length;
  const y = Array.from(b, Number);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < out; j++) y[j] += x[i] * w[i * out + j];
  return y;
}

export const reluJs = (x: number[]): number[] => x.map((v) => Math.max(0, v));

interface BatchTensors {
  tableRows: tf.Tensor2D[];
  localIndex: tf.Tensor1D;
  dense: tf.Tensor2D | null;
}

function uploadBatch(
  model: RankingModel,
  planner: BatchPlanner,
  ids: Int32Array,
  dense: Float32Array | null,
  b: number,
) {
  const plan = planner.plan(ids);
  const u = plan.uniqueRows.length;
  const tensors: BatchTensors = {
    tableRows: model.tables.map((t) => tf.tensor2d(t.gatherRows(plan), [u, t.dim])),
    localIndex: tf.tensor1d(plan.localIndex, 'int32'),
    dense: dense ? tf.tensor2d(dense, [b, dense.length / b]) : null,
  };
  return { plan, tensors };
}

/** Logits for a batch of global table rows ids ([B * M]). */
export async function forwardLogits(
  model: RankingModel,
  ids: Int32Array,
  dense: Float32Array | null,
  training = false,
  dropoutSeed = 0,
): Promise<Float32Array> {
  const b = ids.length / model.numFields;
  const planner = new BatchPlanner(model.tables[0].numRows);
  const { tensors } = uploadBatch(model, planner, ids, dense, b);
  const logits = tf.tidy(() => model.forward({ ...tensors, batchSize: b, dropoutSeed }, training));
  const out = (await logits.data()) as Float32Array;
  logits.dispose();
  tensors.tableRows.forEach((t) => t.dispose());
  tensors.localIndex.dispose();
  tensors.dense?.dispose();
  return out;
}

/** One step as trainStep runs it, with optional dense features; returns the loss. */
export async function trainOnBatch(
  model: RankingModel,
  optimizer: DenseOptimizer,
  planner: BatchPlanner,
  ids: Int32Array,
  dense: Float32Array | null,
  labels: Float32Array,
  dropoutSeed: number,
): Promise<number> {
  const b = labels.length;
  const { plan, tensors } = uploadBatch(model, planner, ids, dense, b);
  const rowVars = tensors.tableRows.map((t) => tf.variable(t, true));
  const labelTensor = tf.tensor1d(labels);
  const { value, grads } = tf.variableGrads(
    () =>
      bceWithLogits(
        model.forward({ ...tensors, tableRows: rowVars, batchSize: b, dropoutSeed }, true),
        labelTensor,
      ),
    [...model.denseVariables, ...rowVars],
  );
  optimizer.applyGradients(grads);
  const [loss, ...rowGrads] = await Promise.all([
    value.data(),
    ...rowVars.map((v) => grads[v.name].data()),
  ]);
  model.tables.forEach((t, i) => t.applyGradient(plan, rowGrads[i] as Float32Array));
  value.dispose();
  for (const n of Object.keys(grads)) grads[n].dispose();
  for (const t of [...tensors.tableRows, ...rowVars]) t.dispose();
  tensors.localIndex.dispose();
  tensors.dense?.dispose();
  labelTensor.dispose();
  return loss[0];
}

/** Random ids ([B*M], field f drawn from its own block of `perField` rows), dense and labels. */
export function randomBatch(
  seed: number,
  batch: number,
  numFields: number,
  perField: number,
  numDense: number,
): { ids: Int32Array; dense: Float32Array | null; labels: Float32Array } {
  const rng = new Rng(seed);
  const ids = new Int32Array(batch * numFields);
  const labels = new Float32Array(batch);
  const dense = numDense > 0 ? new Float32Array(batch * numDense) : null;
  for (let i = 0; i < batch; i++) {
    // The label follows field 0's value and the first dense feature, so there is signal to learn.
    let signal = 0;
    for (let f = 0; f < numFields; f++) {
      const v = rng.int(perField);
      ids[i * numFields + f] = f * perField + v;
      if (f === 0) signal += v < perField / 2 ? 1 : -1;
    }
    if (dense) {
      for (let k = 0; k < numDense; k++) dense[i * numDense + k] = rng.uniform(0, 2);
      signal += dense[i * numDense] - 1;
    }
    labels[i] = signal + 0.3 * rng.normal() > 0 ? 1 : 0;
  }
  return { ids, dense, labels };
}
